"""The example project under gunicorn with the version store on a real Redis.

- concurrency: clients doing read-modify-write PATCH with If-Match on one product;
- faults: Redis stopped and started again during mixed load;
- load: a longer mixed load, with worker memory before and after.

A 304 is *false* when a write to that data was acknowledged after the client received
its copy and before it sent the revalidation (writes still in flight may go either way,
as for any read concurrent with a write). Durations scale with HTTPCACHE_LIVE_SCALE
(1 in `make test`, more in `make reliability`).
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import pytest

from tests.live.redis import redis_server
from tests.live.server import Server, example_server
from tests.reliability import record

pytestmark = pytest.mark.live

SCALE = float(os.environ.get("HTTPCACHE_LIVE_SCALE", "1"))
JSON = {"Accept": "application/json"}


@pytest.fixture
def redis():
    with redis_server() as server:
        yield server


@pytest.fixture
def counter_site(redis):
    env = {"HTTPCACHE_VERSION_MODE": "counter", "HTTPCACHE_REDIS_URL": redis.url}
    with example_server(workers=4, threads=2, env=env, products=30) as server:
        yield server, redis


def version_of(server: Server, pk: int) -> int:
    return server.get(f"/api/products/{pk}/", accept="application/json").json()["version"]


# -- concurrency: no lost update -------------------------------------------------------------


def test_concurrent_read_modify_write_loses_nothing(counter_site):
    server, _ = counter_site
    start_version = version_of(server, 1)
    stats: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + 4 * SCALE

    def client(number: int) -> None:
        rng = random.Random(number)
        while time.monotonic() < deadline:
            current = server.request("GET", "/api/products/1/", JSON)
            reply = server.request(
                "PATCH",
                "/api/products/1/",
                {**server.auth, **JSON, "If-Match": current.headers["ETag"]},
                {"price": f"{rng.randint(1, 999)}.00"},
            )
            with lock:
                stats["attempts"] += 1
                stats[str(reply.status)] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    successes, failed = stats["200"], stats["412"]
    record(
        "concurrency (8 clients, If-Match PATCH)",
        {
            "steps": stats["attempts"],
            "412": failed,
            "5xx": sum(v for k, v in stats.items() if k.startswith("5")),
            "lost updates": start_version + successes - version_of(server, 1),
            "successful writes": successes,
        },
    )
    assert successes + failed == stats["attempts"], stats
    assert successes > 0 and failed > 0, stats  # they did race
    assert version_of(server, 1) == start_version + successes  # no lost update


# -- mixed load with a false-304 check ---------------------------------------------------------


@dataclass
class Ledger:
    """Writes to each URL: when their request started and when they were acknowledged.

    A copy received at ``r`` certainly misses a write that *started* after ``r``; if that
    write was acknowledged before a revalidation was sent, a 304 to it is false. (A write
    that started before ``r`` may already show in the copy: it can commit, and another
    worker serve the new data, before the writer reads its own response.)
    """

    writes: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acknowledged(self, urls: list[str], started: float) -> None:
        acked = time.monotonic()
        with self.lock:
            for url in urls:
                self.writes.setdefault(url, []).append((started, acked))

    def certainly_missed(self, url: str, received: float, sent: float) -> bool:
        with self.lock:
            return any(received < started and acked < sent for started, acked in self.writes.get(url, ()))


READ_URLS = [
    "/api/products/?page_size=10",
    "/api/products/?category=books",
    "/api/products/1/",
    "/api/products/2/",
    "/products/",
]


def mixed_load(
    server: Server,
    seconds: float,
    stats: Counter[str],
    phases: dict[str, Counter[str]] | None = None,
    phase: list[str] | None = None,
    readers: int = 4,
    writers: int = 2,
) -> None:
    ledger = Ledger()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def count(key: str) -> None:
        with lock:
            stats[key] += 1
            if phases is not None and phase:
                phases.setdefault(phase[0], Counter())[key] += 1

    def reader(number: int) -> None:
        rng = random.Random(number)
        copies: dict[str, tuple[str, float]] = {}
        while time.monotonic() < deadline:
            url = rng.choice(READ_URLS)
            headers = dict(JSON)
            if url in copies and rng.random() < 0.8:
                headers["If-None-Match"] = copies[url][0]
                count("revalidations")
            sent = time.monotonic()
            reply = server.request("GET", url, headers)
            count("requests")
            if reply.status >= 500:
                count("5xx")
            elif reply.status == 304:
                count("304")
                _etag, received = copies[url]
                if ledger.certainly_missed(url, received, sent):
                    count("false 304")
                    count(f"false 304: {url} ({phase[0] if phase else 'load'})")
            elif reply.status == 200 and "ETag" in reply.headers:
                copies[url] = (reply.headers["ETag"], time.monotonic())

    def writer(number: int) -> None:
        rng = random.Random(1000 + number)
        while time.monotonic() < deadline:
            pk = rng.choice([1, 2, 3, 4])
            current = server.request("GET", f"/api/products/{pk}/", JSON)
            if current.status != 200:
                count("5xx" if current.status >= 500 else "other")
                continue
            started = time.monotonic()
            reply = server.request(
                "PATCH",
                f"/api/products/{pk}/",
                {**server.auth, **JSON, "If-Match": current.headers["ETag"]},
                {"price": f"{rng.randint(1, 999)}.00"},
            )
            count("writes")
            if reply.status >= 500:
                count("5xx")
            elif reply.status == 412:
                count("412")
            elif reply.status == 200:
                # Products 1-4 are on the first page and the HTML list; none is a book.
                ledger.acknowledged(
                    [u for u in READ_URLS if u.endswith(f"/{pk}/") or "page_size" in u or u == "/products/"], started
                )
            time.sleep(rng.random() * 0.05)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(readers)]
    threads += [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# -- faults: the version store goes away and comes back ------------------------------------------


def test_version_store_outage_gives_no_stale_304_and_no_5xx(counter_site):
    server, redis = counter_site
    stats: Counter[str] = Counter()
    phases: dict[str, Counter[str]] = {}
    phase = ["before"]
    seconds = 3 * SCALE

    def chaos() -> None:
        time.sleep(seconds)
        phase[0] = "outage"
        redis.stop()
        time.sleep(seconds)
        redis.start()
        phase[0] = "after"

    conductor = threading.Thread(target=chaos)
    conductor.start()
    mixed_load(server, 3 * seconds + 1, stats, phases, phase)
    conductor.join()
    record("faults (Redis stopped, restarted)", {"steps": stats["requests"], **stats})
    assert stats["5xx"] == 0, stats
    assert stats["false 304"] == 0, stats
    assert phases["before"]["304"] > 0 and phases["after"]["304"] > 0, phases  # 304s come back
    assert "Version store 'versions' failed" in server.log.read_text()


# -- load: a minute of mixed traffic ---------------------------------------------------------------


def worker_rss_kib(server: Server) -> dict[int, int]:
    """VmRSS of each gunicorn worker (children of the master)."""
    import pathlib

    sizes = {}
    for status in pathlib.Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(server.process.pid):
            sizes[int(status.parent.name)] = int(fields.get("VmRSS", "0 kB").split()[0])
    return sizes


@pytest.mark.reliability
def test_mixed_load(counter_site):
    server, _ = counter_site
    seconds = float(os.environ.get("HTTPCACHE_LOAD_SECONDS", "60"))
    mixed_load(server, 5, Counter())  # warm up: imports, connections, caches
    before = worker_rss_kib(server)
    stats: Counter[str] = Counter()
    mixed_load(server, seconds, stats, readers=6, writers=2)
    after = worker_rss_kib(server)
    growth = max(after[pid] - before.get(pid, after[pid]) for pid in after)
    record(
        f"load ({seconds:.0f} s, 6 readers, 2 writers)",
        {
            "steps": stats["requests"],
            **stats,
            "RSS before KiB": max(before.values()),
            "RSS after KiB": max(after.values()),
        },
    )
    assert stats["5xx"] == 0 and stats["false 304"] == 0, stats
    assert growth < 20 * 1024, f"a worker grew by {growth} KiB"
