"""Observing, measured: ``python -m tests.benchmarks.observe cost`` times a counter-mode 304
with HTTPCACHE['METRICS'] off and on, beside the DRF floor (in-process harness);
``python -m tests.benchmarks.observe plot`` runs the example project under gunicorn with
a load of revalidating clients and a burst of writes in the middle, reads /metrics every
second, and draws docs/observe.png (304 share and validator cost over time)."""

from __future__ import annotations

import contextlib
import os
import random
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

from .run import DOCS, ROOT, setup

SECONDS = int(os.environ.get("OBSERVE_SECONDS", "60"))
BURST = (0.4, 0.6)  # the writes run over this part of the run


def cost() -> None:
    from django.conf import settings
    from django.test import override_settings

    from .inprocess import OUR_MIDDLEWARE, Rounds, call, handler, timed

    plain, ours = handler([]), handler([OUR_MIDDLEWARE])
    # DEBUG: the bench's one-process version cache is allowed for counter mode; the
    # response headers stay off, so only the counting is measured.
    base = {**settings.HTTPCACHE, "VERSION_MODE": "counter", "RESPONSE_HEADERS": False}

    def measure(app, path, metrics=None):
        def run():
            if metrics is None:
                return timed(app, path, budget=0.3, expect=304)
            with override_settings(DEBUG=True, HTTPCACHE={**base, "METRICS": metrics}):
                tag = call(app, path).headers["ETag"]
                return timed(app, path, {"If-None-Match": tag}, budget=0.3, expect=304)

        return run

    for path in ("/ours/products/1/", "/ours/products/?page_size=100"):
        results = Rounds(7).run(
            {
                "floor": measure(plain, "/floor/drf/"),
                "metrics off": measure(ours, path, False),
                "metrics on": measure(ours, path, True),
            }
        )
        floor, off, on = (results[k].median for k in ("floor", "metrics off", "metrics on"))
        print(
            f"{path}: floor {floor:.1f} µs; counter 304 {off:.1f} µs ({off / floor:.2f}× floor), "
            f"with metrics {on:.1f} µs ({on / floor:.2f}× floor; {on - off:+.1f} µs, {on / off:.3f}× without)"
        )
    # The difference drowns in the noise of whole requests: the added work, timed alone.
    for metrics, headers in ((False, False), (True, False), (True, True)):
        with override_settings(DEBUG=True, HTTPCACHE={**base, "METRICS": metrics, "RESPONSE_HEADERS": headers}):
            added = observe_cost()
        print(f"observe() on a 304, metrics {metrics}, headers {headers}: {added:.2f} µs per response")


def observe_cost() -> float:
    """µs per ``metrics.observe()`` of a counter-mode 304 with a filled trace (best of 5)."""
    import timeit

    from django.http import HttpResponseNotModified
    from django.test import RequestFactory
    from django.urls import resolve

    from django_httpcache import metrics, trace

    request = RequestFactory().get("/ours/products/1/", headers={"if-none-match": '"x"'})
    request.resolver_match = resolve("/ours/products/1/")
    found = trace.of(request)
    found.view, found.mode, found.validator_seconds, found.etag = "v", "counter", 0.00004, '"x"'

    response = HttpResponseNotModified()

    def work() -> None:
        metrics.observe(request, response)

    work()
    return min(timeit.repeat(work, number=5000, repeat=5)) / 5000 * 1e6


class Load:
    """Clients that revalidate with the last tag they saw, and a writer for the burst."""

    def __init__(self, base_url: str, auth: dict[str, str]) -> None:
        self.base_url, self.auth = base_url, auth
        self.stop = threading.Event()
        self.writing = threading.Event()
        self.paths = [f"/api/products/{pk}/" for pk in range(1, 41)] + ["/api/products/?page_size=20"]

    def get(self, path: str, tag: str | None) -> tuple[int, str | None]:
        headers = {"Accept": "application/json", **({"If-None-Match": tag} if tag else {})}
        request = urllib.request.Request(self.base_url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                reply.read()
                return reply.status, reply.headers.get("ETag")
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get("ETag")

    def reader(self) -> None:
        tags: dict[str, str | None] = {}
        rng = random.Random(threading.get_ident())
        while not self.stop.is_set():
            path = rng.choice(self.paths)
            status, tag = self.get(path, tags.get(path))
            if status == 200:
                tags[path] = tag

    def writer(self) -> None:
        rng = random.Random(7)
        while not self.stop.is_set():
            if not self.writing.wait(0.1):
                continue
            pk = rng.randint(1, 40)
            _, tag = self.get(f"/api/products/{pk}/", None)
            body = f'{{"price": "{rng.randint(1, 99)}.00"}}'.encode()
            headers = {**self.auth, "If-Match": tag or "", "Content-Type": "application/json"}
            request = urllib.request.Request(self.base_url + f"/api/products/{pk}/", body, headers, method="PATCH")
            with contextlib.suppress(urllib.error.HTTPError):  # a 412 after a race: the next write goes on
                urllib.request.urlopen(request, timeout=10).read()
            time.sleep(0.1)


def scrape(base_url: str) -> tuple[Counter[str], float, float]:
    """Responses by outcome (all views), validator seconds: sum and count."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(base_url + "/metrics", timeout=10) as reply:
        text = reply.read().decode()
    outcomes: Counter[str] = Counter()
    total = count = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "httpcache_responses_total" and sample.labels["view"].startswith("api:product"):
                outcomes[sample.labels["outcome"]] += sample.value
            elif sample.name == "httpcache_validator_seconds_sum":
                total += sample.value
            elif sample.name == "httpcache_validator_seconds_count":
                count += sample.value
    return outcomes, total, count


def plot() -> None:
    from tests.live.server import example_server

    with example_server(workers=2, products=60) as site:
        load = Load(site.base_url, site.auth)
        threads = [threading.Thread(target=load.reader, daemon=True) for _ in range(4)]
        threads.append(threading.Thread(target=load.writer, daemon=True))
        for thread in threads:
            thread.start()
        rows = []
        previous = scrape(site.base_url)
        start = time.monotonic()
        while (elapsed := time.monotonic() - start) < SECONDS:
            if BURST[0] * SECONDS <= elapsed < BURST[1] * SECONDS:
                load.writing.set()
            else:
                load.writing.clear()
            time.sleep(1.0)
            current = scrape(site.base_url)
            outcomes = current[0] - previous[0]
            answered = sum(outcomes.values())
            timed = current[2] - previous[2]
            share = outcomes["not_modified"] / answered * 100 if answered else 0.0
            validator_ms = (current[1] - previous[1]) / timed * 1000 if timed else 0.0
            rows.append((time.monotonic() - start, share, validator_ms, answered))
            previous = current
        load.stop.set()
        load.writing.set()
        for thread in threads:
            thread.join(timeout=15)
    draw(rows)


def draw(rows: list[tuple[float, float, float, float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seconds = [r[0] for r in rows]
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(8, 5), dpi=110)
    for axis in (top, bottom):
        axis.axvspan(BURST[0] * SECONDS, BURST[1] * SECONDS, color="#f4c7c3", alpha=0.5, label="writes")
        axis.grid(alpha=0.3)
    top.plot(seconds, [r[1] for r in rows], color="#2b5d7d")
    top.set_ylabel("304 share (%)")
    top.set_ylim(0, 100)
    top.legend(loc="lower left")
    bottom.plot(seconds, [r[2] for r in rows], color="#7d2b5d")
    bottom.set_ylabel("validator cost (ms, mean)")
    bottom.set_xlabel("seconds")
    bottom.set_ylim(bottom=0)
    top.set_title("Example project under gunicorn (2 workers), /api/products/: from /metrics every second")
    figure.tight_layout()
    figure.savefig(DOCS / "observe.png")
    steady = [r for r in rows if r[0] < BURST[0] * SECONDS]
    burst = [r for r in rows if BURST[0] * SECONDS <= r[0] < BURST[1] * SECONDS]
    for name, part in (("before the writes", steady), ("during the writes", burst)):
        if part:
            share = sum(r[1] for r in part) / len(part)
            rate = sum(r[3] for r in part) / len(part)
            print(f"{name}: 304 share {share:.0f}%, {rate:.0f} responses/s")
    print(f"Wrote {DOCS / 'observe.png'}")


def main() -> None:
    if sys.argv[1:] == ["cost"]:
        setup()
        cost()
    elif sys.argv[1:] == ["plot"]:
        sys.path[:0] = [str(ROOT), str(ROOT / "example_project")]
        plot()
    else:
        raise SystemExit("usage: python -m tests.benchmarks.observe cost|plot")


if __name__ == "__main__":
    main()
