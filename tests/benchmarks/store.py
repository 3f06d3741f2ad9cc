"""`make bench`, the response store: a stored 200 beside plain DRF, drf-extensions'
``cache_response`` and Django's ``cache_page``; staleness after a change; and the
thundering herd under gunicorn (how many renders 100 concurrent misses cause)."""

from __future__ import annotations

import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .inprocess import OUR_MIDDLEWARE, Result

SIZES = (10, 100, 1_000, 10_000)
FLOOR = "DRF APIView 304"
STORED = ("ours stored 200 (counter)", "ours stored 200 (aggregate)")
PEERS = ("drf-extensions cache_response 200", "cache_page 200")
ROUTES = {
    "ours stored 200 (counter)": ("stored", "counter"),
    "ours stored 200 (aggregate)": ("stored", "aggregate"),
    "drf-extensions cache_response 200": ("drfx-cached", None),
    "cache_page 200": ("cache-page", None),
}


def inprocess(rounds: int, budget: float) -> dict[str, Any]:
    from django.conf import settings
    from django.core.cache import caches
    from django.test import override_settings

    from .inprocess import Rounds, handler, timed

    plain, ours = handler([]), handler([OUR_MIDDLEWARE])
    base = settings.HTTPCACHE
    caches["responses"].clear()
    caches["default"].clear()

    def measure(prefix: str, path: str, mode: str | None, *, expect: int, app: Any = None):
        def run():
            app_ = app or (ours if mode else plain)
            # The store writes from HttpCacheMiddleware: it must be in MIDDLEWARE.
            with override_settings(
                HTTPCACHE={**base, "VERSION_MODE": mode or "aggregate"}, MIDDLEWARE=[OUR_MIDDLEWARE]
            ):
                return timed(app_, f"/{prefix}/{path}", budget=budget, min_calls=5, expect=expect)

        return run

    lists = {}
    for size in SIZES:
        print(f"  store, list N={size}", flush=True)
        path = f"products/?page_size={size}"
        variants = {
            FLOOR: measure("floor", "drf/", None, expect=304, app=plain),
            "plain DRF 200": measure("plain", path, None, expect=200, app=plain),
        }
        for name, (prefix, mode) in ROUTES.items():
            variants[name] = measure(prefix, path, mode, expect=200)
        lists[size] = Rounds(rounds).run(variants)
    return {"lists": lists, "staleness": staleness(ours, plain, base)}


def staleness(ours: Any, plain: Any, base: dict[str, Any]) -> dict[str, int]:
    """Change row 30 of a 100-row page after it was stored: who still serves the old body?"""
    from django.test import override_settings

    from catalog.models import Product

    from .inprocess import call

    path = "products/?page_size=100"
    found = {}
    for name, (prefix, mode) in ROUTES.items():
        app = ours if mode else plain
        with override_settings(HTTPCACHE={**base, "VERSION_MODE": mode or "aggregate"}, MIDDLEWARE=[OUR_MIDDLEWARE]):
            call(app, f"/{prefix}/{path}")
            price = f"{700 + len(found)}.77"
            Product.objects.filter(pk=30).update(price=price)  # the versioned manager records it
            found[name] = int(price.encode() not in call(app, f"/{prefix}/{path}").body)
    return found


# -- the thundering herd under gunicorn ------------------------------------------------------

_FULL_ANY_ORDER = re.compile(r"^httpcache_responses_total\{([^}]*)\}\s+(\S+)", re.M)


def _renders(base_url: str) -> float:
    """Rendered (not stored, not 304) product-list responses, over every worker."""
    with urllib.request.urlopen(base_url + "/metrics", timeout=30) as reply:
        text = reply.read().decode()
    total = 0.0
    for labels, value in _FULL_ANY_ORDER.findall(text):
        if 'outcome="full"' in labels and 'view="api:product-list"' in labels:
            total += float(value)
    return total


def _status(srv: Any, path: str) -> int:
    try:
        return int(srv.get(path, accept="application/json").status)
    except OSError:  # timed out: counted as an error
        return 0


def herd(concurrency: int = 100) -> dict[str, dict[str, int]]:
    """After a change, ``concurrency`` simultaneous GETs of a 200-product page: renders."""
    from tests.live.redis import redis_server
    from tests.live.server import example_server

    results = {}
    with redis_server() as redis:
        cases = {
            "store on (Redis)": {"HTTPCACHE_VERSION_MODE": "counter", "HTTPCACHE_REDIS_URL": redis.url},
            "store off": {
                "HTTPCACHE_VERSION_MODE": "counter",
                "HTTPCACHE_REDIS_URL": redis.url,
                "HTTPCACHE_RESPONSE_STORE": "0",
            },
        }
        for label, env in cases.items():
            print(f"  herd, {label}", flush=True)
            with example_server(workers=2, threads=8, env=env, products=1000) as srv:
                path = "/api/products/?page_size=200"
                srv.get(path, accept="application/json")  # seen and stored
                current = srv.get("/api/products/1/", accept="application/json")
                headers = {**srv.auth, "If-Match": current.headers["ETag"]}
                assert srv.request("PATCH", "/api/products/1/", headers, {"price": "12.34"}).status == 200
                before = _renders(srv.base_url)
                with ThreadPoolExecutor(concurrency) as pool:
                    statuses = list(pool.map(lambda url: _status(srv, url), [path] * concurrency))
                results[label] = {
                    "requests": concurrency,
                    "renders": round(_renders(srv.base_url) - before),
                    "errors": sum(1 for s in statuses if s != 200),
                }
    return results


# -- report ----------------------------------------------------------------------------------


def _ratio(value: float) -> str:
    return f"{value:,.2f}×" if value < 100 else f"{value:,.0f}×"


def targets(store: dict[str, Any]) -> list[tuple[str, str, bool]]:
    at = store["lists"][1_000]
    floor = at[FLOOR].median
    rows = []
    for name in STORED:
        ratio = at[name].median / floor
        rows.append((f"{name} at N=1,000 ≤ 2× DRF floor", _ratio(ratio), ratio <= 2))
        saving = at["plain DRF 200"].median / at[name].median
        rows.append((f"{name} ≥ 25× cheaper than plain DRF 200 at N=1,000", _ratio(saving), saving >= 25))
    return rows


def lines(store: dict[str, Any], herd_results: dict[str, dict[str, int]]) -> list[str]:
    lists: dict[int, dict[str, Result]] = store["lists"]
    out = ["## Response store: a 200 without rendering\n"]
    out.append(
        "A 200 for a client without a copy, from the [response store](response-store.md) (keyed by the "
        "validator) and from the peers' TTL caches, as a ratio to the DRF floor (the same group's bare "
        "APIView 304). `page_size = N`. The stale column: after row 30 of a 100-row page changes, does "
        "the next request still get the old body?\n"
    )
    out.append("| variant | " + " | ".join(f"N={n:,}" for n in SIZES) + " | stale after a change |")
    out.append("|---|" + "---|" * (len(SIZES) + 1))
    for name in ("plain DRF 200", *STORED, *PEERS):
        cells = [
            f"{_ratio(lists[n][name].median / lists[n][FLOOR].median)} ({lists[n][name].median:,.0f} µs)" for n in SIZES
        ]
        stale = store["staleness"].get(name)
        mark = "—" if stale is None else ("**yes**" if stale else "no")
        out.append(f"| {name} | " + " | ".join(cells) + f" | {mark} |")
    out.append("")
    out.append(
        "A stored 200 still computes the validators (versions first) and looks the entry up under "
        "them; the peers look up by URL alone, which is why they keep serving the old body until "
        "their TTL runs out. So a stored 200 costs the same mode's 304 plus reading the entry and "
        "building the response from it: its distance from the DRF floor is mostly the 304 path's own. "
        "At N=10,000 the entry (about 3 MB of JSON) is copied through the cache's pickling.\n"
    )
    if herd_results:
        out.append("### One render per version\n")
        out.append(
            "The example project under gunicorn (2 workers × 8 threads, counter mode, versions and "
            "entries on Redis): after a PATCH, 100 concurrent GETs of a 200-product page.\n"
        )
        out.append("| store | requests | renders | errors |\n|---|---|---|---|")
        for label, found in herd_results.items():
            out.append(f"| {label} | {found['requests']} | {found['renders']} | {found['errors']} |")
        out.append("")
    return out
