"""`make bench`: what a 304 costs, beside the peers and the framework's floor.

Every variant runs in one process, on the same data, interleaved over a few rounds;
then the example project runs under gunicorn and wrk. Writes docs/performance.md and
docs/performance.png. Figures are medians; ratios are to the DRF floor.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from .inprocess import DEFAULT_BUDGET, DEFAULT_ROUNDS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
SIZES = (10, 100, 1_000, 10_000)
ROUNDS = int(os.environ.get("BENCH_ROUNDS", DEFAULT_ROUNDS))
FAST_BUDGET = float(os.environ.get("BENCH_BUDGET", DEFAULT_BUDGET))  # seconds per variant per round


def setup() -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "example_project")]
    workdir = Path(tempfile.mkdtemp(prefix="httpcache-bench-"))
    os.environ["BENCH_DB"] = str(workdir / "bench.sqlite3")
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.benchmarks.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("seed_demo", products=max(SIZES), stdout=io.StringIO())


# -- in-process ------------------------------------------------------------------------


def inprocess() -> dict[str, object]:
    from django.conf import settings
    from django.test import override_settings

    from .inprocess import CONDITIONAL_GET, OUR_MIDDLEWARE, Rounds, call, handler, timed
    from .report import HAND
    from .views import HAND_TAG, seed_hand_tokens

    seed_hand_tokens()

    plain, ours, condget = handler([]), handler([OUR_MIDDLEWARE]), handler([CONDITIONAL_GET])
    base = settings.HTTPCACHE

    def mode(name: str) -> override_settings:
        # "counter+metrics": counter mode with HTTPCACHE['METRICS'] on (docs/observe.md).
        # The example turns METRICS on where prometheus_client is installed: say it each time.
        metrics = name.endswith("+metrics")
        return override_settings(HTTPCACHE={**base, "VERSION_MODE": name.removesuffix("+metrics"), "METRICS": metrics})

    def etag(app, path: str, name: str | None = None) -> str:
        if name is None:
            return call(app, path).headers["ETag"]
        with mode(name):
            return call(app, path).headers["ETag"]

    def measure(app, path, headers=None, *, expect, name=None, budget=FAST_BUDGET, min_calls=5):
        def run():
            if name is None:
                return timed(app, path, headers, budget=budget, min_calls=min_calls, expect=expect)
            with mode(name):
                return timed(app, path, headers, budget=budget, min_calls=min_calls, expect=expect)

        return run

    def variants(path: str, slow: bool) -> dict[str, object]:
        heavy = {"budget": FAST_BUDGET, "min_calls": 3 if slow else 5}
        inm = lambda tag: {"If-None-Match": tag}  # noqa: E731
        # The hand-written yardstick answers lists only.
        hand = {HAND: measure(plain, f"/by-hand/{path}", inm(HAND_TAG), expect=304)} if "?" in path else {}
        return {
            **hand,
            # The floor runs inside every group, so each ratio compares one time window.
            "DRF APIView 304": measure(plain, "/floor/drf/", expect=304),
            "plain DRF 200": measure(plain, f"/plain/{path}", expect=200, **heavy),
            "ConditionalGetMiddleware 304": measure(
                condget, f"/plain/{path}", inm(etag(condget, f"/plain/{path}")), expect=304, **heavy
            ),
            "drf-extensions 304": measure(plain, f"/drfx/{path}", inm(etag(plain, f"/drfx/{path}")), expect=304),
            "ours aggregate 304": measure(
                ours, f"/ours/{path}", inm(etag(ours, f"/ours/{path}", "aggregate")), expect=304, name="aggregate"
            ),
            "ours counter 304": measure(
                ours, f"/ours/{path}", inm(etag(ours, f"/ours/{path}", "counter")), expect=304, name="counter"
            ),
            "ours counter 304, metrics on": measure(
                ours,
                f"/ours/{path}",
                inm(etag(ours, f"/ours/{path}", "counter+metrics")),
                expect=304,
                name="counter+metrics",
            ),
            "ours aggregate 200": measure(ours, f"/ours/{path}", expect=200, name="aggregate", **heavy),
            "ours counter 200": measure(ours, f"/ours/{path}", expect=200, name="counter", **heavy),
        }

    floors = Rounds(ROUNDS).run(
        {
            "Django view 304": measure(plain, "/floor/django/", expect=304),
            "DRF APIView 304": measure(plain, "/floor/drf/", expect=304),
        }
    )
    lists = {}
    for size in SIZES:
        print(f"  list N={size}", flush=True)
        lists[size] = Rounds(ROUNDS).run(variants(f"products/?page_size={size}", slow=size >= 1000))
    print("  detail", flush=True)
    detail = Rounds(ROUNDS).run(variants("products/1/", slow=False))
    print("  1 MB body", flush=True)
    # A DRF list whose JSON is about 1 MB, with and without the body-hash fallback.
    per_row = len(call(plain, "/plain/products/?page_size=1000").body) / 1000
    mb_path = f"/plain/products/?page_size={round((1 << 20) / per_row)}"
    megabyte = Rounds(ROUNDS).run(
        {
            "plain 200": measure(plain, mb_path, expect=200, min_calls=5),
            "middleware body hash 200": measure(ours, mb_path, expect=200, min_calls=5),
            "static 1 MB 200": measure(plain, "/megabyte/", expect=200, min_calls=20),
            "static 1 MB, body hash 200": measure(ours, "/megabyte/", expect=200, min_calls=20),
        }
    )
    megabyte["bytes"] = len(call(plain, mb_path).body)  # type: ignore[assignment]
    return {
        "floors": floors,
        "lists": lists,
        "detail": detail,
        "megabyte": megabyte,
        "added_work": added_work(),
        "correctness": correctness(),
    }


def added_work() -> dict[str, float]:
    """What our 200 adds, timed alone (stable where end-to-end differences drown in noise):
    computing the collection validators and applying the policy."""
    import timeit

    from django.conf import settings
    from django.http import HttpResponse
    from django.test import RequestFactory, override_settings

    from catalog.models import Product
    from django_httpcache.conf import conf
    from django_httpcache.policy import apply
    from django_httpcache.preconditions import set_validators
    from django_httpcache.validators import for_queryset, variant_key

    request = RequestFactory().get("/ours/products/?page_size=100")
    request.resolver_match = None
    costs = {}
    for mode in ("aggregate", "counter"):
        with override_settings(HTTPCACHE={**settings.HTTPCACHE, "VERSION_MODE": mode}):
            policy = conf.policy("catalog")

            def work(policy=policy):
                current = for_queryset(Product.objects.all(), variant_key(request, policy, "application/json"))
                response = HttpResponse()
                set_validators(response, current)
                apply(request, response, policy)

            number = 200 if mode == "aggregate" else 2000
            costs[mode] = min(timeit.repeat(work, number=number, repeat=5)) / number * 1e6
    return costs


def correctness() -> dict[str, dict[str, int]]:
    """Change row 30 of a 100-row page: who still answers 304?"""
    from django.conf import settings
    from django.test import override_settings

    from catalog.models import Product

    from .inprocess import CONDITIONAL_GET, OUR_MIDDLEWARE, call, handler

    plain, ours, condget = handler([]), handler([OUR_MIDDLEWARE]), handler([CONDITIONAL_GET])
    base = settings.HTTPCACHE
    path = "products/?page_size=100"
    cases = {
        "ConditionalGetMiddleware": (condget, f"/plain/{path}", None),
        "drf-extensions @etag (list model key)": (plain, f"/drfx/{path}", None),
        "ours, aggregate mode": (ours, f"/ours/{path}", "aggregate"),
        "ours, counter mode": (ours, f"/ours/{path}", "counter"),
    }

    def ask(app, url, name, headers=None):
        if name is None:
            return call(app, url, headers)
        with override_settings(HTTPCACHE={**base, "VERSION_MODE": name}):
            return call(app, url, headers)

    tags = {label: ask(app, url, name).headers["ETag"] for label, (app, url, name) in cases.items()}
    Product.objects.filter(pk=30).update(price="999.99")  # the versioned manager records it
    results = {}
    for label, (app, url, name) in cases.items():
        reply = ask(app, url, name, {"If-None-Match": tags[label]})
        body_changed = b"999.99" in ask(app, url, name).body
        results[label] = {"status": reply.status, "stale": int(reply.status == 304 and body_changed)}
    return results


# -- hashlib ------------------------------------------------------------------------------


def hash_costs() -> dict[str, float]:
    data = os.urandom(1 << 20)
    costs = {}
    for name in sorted(hashlib.algorithms_guaranteed):
        if name.startswith("shake"):
            continue
        samples = []
        for _ in range(15):
            start = time.perf_counter()
            hashlib.new(name, data).hexdigest()
            samples.append((time.perf_counter() - start) * 1e3)
        costs[name] = statistics.median(samples)
    return costs


# -- real server --------------------------------------------------------------------------


def server() -> dict[str, dict[str, object]]:
    from tests.live.redis import redis_server
    from tests.live.server import example_server

    from .loadgen import wrk

    seconds = int(os.environ.get("BENCH_WRK_SECONDS", "5"))
    results: dict[str, dict[str, object]] = {}
    with redis_server() as redis:
        modes = {
            # The response store off: a 200 here is rendered (stored 200s: tests/benchmarks/store.py).
            "aggregate": {"HTTPCACHE_RESPONSE_STORE": "0"},
            "counter (Redis)": {
                "HTTPCACHE_VERSION_MODE": "counter",
                "HTTPCACHE_REDIS_URL": redis.url,
                "HTTPCACHE_RESPONSE_STORE": "0",
            },
        }
        for label, env in modes.items():
            print(f"  gunicorn, {label}", flush=True)
            with example_server(workers=2, env=env, products=1000) as srv:
                runs: dict[str, object] = {}
                accept = {"Accept": "application/json"}
                runs["/api/ping/ (floor, 200)"] = wrk(srv.base_url + "/api/ping/", accept, seconds=seconds)
                for size in (100, 1000):
                    path = f"/api/products/?page_size={size}"
                    tag = srv.get(path, accept="application/json").headers["ETag"]
                    runs[f"list N={size}, 200"] = wrk(srv.base_url + path, accept, seconds=seconds)
                    runs[f"list N={size}, 304"] = wrk(
                        srv.base_url + path, {**accept, "If-None-Match": tag}, seconds=seconds
                    )
                results[label] = runs
    return results


# -- report ---------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import django
    import rest_framework

    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, Django {django.get_version()}, "
        f"DRF {rest_framework.VERSION}, SQLite {__import__('sqlite3').sqlite_version}; {platform.platform()}"
    )


def main() -> None:
    started = time.monotonic()
    print("Seeding 10,000 products...", flush=True)
    setup()
    print("In-process harness:", flush=True)
    measured = inprocess()
    from . import store

    measured["store"] = store.inprocess(ROUNDS, FAST_BUDGET)
    print("hashlib costs...", flush=True)
    hashes = hash_costs()
    skip_server = os.environ.get("BENCH_SKIP_SERVER") == "1"
    print("Real server harness:", flush=True)
    loads = {} if skip_server else server()
    measured["herd"] = {} if skip_server else store.herd()
    from .report import write

    write(DOCS, measured, hashes, loads, machine(), datetime.date.today(), time.monotonic() - started)
    print(f"Wrote {DOCS / 'performance.md'} and {DOCS / 'performance.png'} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
