"""The example under gunicorn (2 workers, 8 threads each), counter mode, versions and stored
responses on Redis: never a stale stored body, one render per version across processes,
and rendering on when Redis goes away (docs/response-store.md)."""

from __future__ import annotations

import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.live.redis import redis_server
from tests.live.server import Server, example_server

pytestmark = pytest.mark.live

JSON = {"Accept": "application/json"}
LIST = "/api/products/?page_size=50"
_SAMPLE = re.compile(r"^httpcache_responses_total\{([^}]*)\}\s+(\S+)", re.M)


@pytest.fixture(scope="module")
def live():
    with redis_server() as redis:
        env = {"HTTPCACHE_VERSION_MODE": "counter", "HTTPCACHE_REDIS_URL": redis.url}
        with example_server(workers=2, threads=8, env=env, products=60) as server:
            yield server, redis


def renders(server: Server) -> float:
    """Rendered (not stored, not 304) product-list 200s, over every worker (Prometheus)."""
    with urllib.request.urlopen(server.base_url + "/metrics", timeout=30) as reply:
        text = reply.read().decode()
    samples = _SAMPLE.findall(text)
    assert samples, "no httpcache_responses_total samples: is prometheus_client installed?"
    return sum(float(v) for labels, v in samples if 'outcome="full"' in labels and 'view="api:product-list"' in labels)


def patch_price(server: Server, price: str) -> None:
    current = server.request("GET", "/api/products/1/", JSON)
    headers = {**JSON, **server.auth, "If-Match": current.headers["ETag"]}
    assert server.request("PATCH", "/api/products/1/", headers, {"price": price}).status == 200


def prices(server: Server) -> set[str]:
    body = server.request("GET", LIST, JSON).json()
    return {p["price"] for p in body["results"] if p["id"] == 1}


def test_a_change_is_never_served_from_the_store(live):
    server, _ = live
    server.request("GET", LIST, JSON)
    patch_price(server, "41.00")
    assert all(prices(server) == {"41.00"} for _ in range(12))  # every worker, every thread
    patch_price(server, "42.00")
    assert all(prices(server) == {"42.00"} for _ in range(12))


def test_concurrent_misses_render_once(live):
    server, _ = live
    server.request("GET", LIST, JSON)  # every view seen
    patch_price(server, "43.00")
    before = renders(server)
    with ThreadPoolExecutor(30) as pool:
        statuses = list(pool.map(lambda url: server.request("GET", url, JSON).status, [LIST] * 30))
    assert statuses == [200] * 30
    assert renders(server) - before == 1


def test_redis_down_still_answers(live):
    server, redis = live
    redis.stop()
    try:
        assert [server.request("GET", LIST, JSON).status for _ in range(6)] == [200] * 6
    finally:
        redis.start()
