"""Caching HTTP clients (hishel, requests-cache) against the example project under gunicorn.

With the `site` fixture the catalog says `max-age=2`. For each client and each catalog
representation (DRF detail and filtered list, HTML detail and list):

1. a repeat within max-age is served from the client's cache and never reaches gunicorn;
2. once stale, the client revalidates, gunicorn answers 304, and the client returns its
   stored body;
3. after a write (PATCH with If-Match), the next revalidation gets a 200 with the new body,
   which the client then stores.

"Reached gunicorn" is read from its access log; "from the cache" from what each client
reports about itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.live.server import Server

from .conftest import require
from .peers import AccessLog, Hit

MAX_AGE = 2  # EXAMPLE_CATALOG_MAX_AGE of the `site` fixture
STALE = MAX_AGE + 0.7  # sleep this long to be sure a client's copy is stale
TIMEOUT = 30
JSON = {"Accept": "application/json"}


@dataclass
class Fetched:
    status: int
    body: bytes
    etag: str | None
    from_cache: bool
    revalidated: bool


@dataclass
class Client:
    name: str
    get: Callable[[str], Fetched]


def hishel_client(tmp_path: Path) -> Iterator[Client]:
    try:
        import requests
        from hishel import CacheOptions, SqliteStorage
        from hishel.requests import CacheAdapter
    except ImportError as error:
        require("hishel", False, f"pip install -e '.[test]' ({error})")
        raise
    # rfc=CacheOptions(...) turns on hishel's RFC 9111 state machine (without it hishel caches
    # by URL and ignores Cache-Control). shared=False: a private cache, like a browser, so it
    # uses max-age (2 s); as a shared cache it would use s-maxage=600 and never go stale here.
    # allow_stale stays False: stale-while-revalidate=30 must not let it skip revalidation.
    storage = SqliteStorage(database_path=str(tmp_path / "hishel.sqlite3"))
    adapter = CacheAdapter(storage=storage, rfc=CacheOptions(shared=False, allow_stale=False))
    session = requests.Session()
    session.mount("http://", adapter)

    def get(url: str) -> Fetched:
        response = session.get(url, headers=JSON, timeout=TIMEOUT)
        return Fetched(
            response.status_code,
            response.content,
            response.headers.get("ETag"),
            response.headers["X-Hishel-From-Cache"] == "true",
            response.headers["X-Hishel-Revalidated"] == "true",
        )

    try:
        yield Client("hishel", get)
    finally:
        session.close()  # closes the adapter, which closes the storage


def requests_cache_client(tmp_path: Path) -> Iterator[Client]:
    try:
        import requests_cache
    except ImportError as error:
        require("requests-cache", False, f"pip install -e '.[test]' ({error})")
        raise
    # cache_control=True: expiration from Cache-Control/Expires, and revalidation with the
    # stored ETag/Last-Modified. In memory, so nothing outlives the test.
    session = requests_cache.CachedSession(backend="memory", cache_control=True)

    def get(url: str) -> Fetched:
        response = session.get(url, headers=JSON, timeout=TIMEOUT)
        return Fetched(
            response.status_code,
            response.content,
            response.headers.get("ETag"),
            bool(getattr(response, "from_cache", False)),
            bool(getattr(response, "revalidated", False)),
        )

    try:
        yield Client("requests-cache", get)
    finally:
        session.close()


# One product per client, so that the two tests never share a representation's history.
CLIENTS = {"hishel": (hishel_client, 3), "requests-cache": (requests_cache_client, 4)}


@pytest.fixture(params=list(CLIENTS))
def client(request, tmp_path):
    factory, _ = CLIENTS[request.param]
    yield from factory(tmp_path)


def statuses(hits: list[Hit], path: str) -> list[int]:
    return [hit.status for hit in hits if hit.target == path]


def catalog_paths(site: Server, product_id: int) -> tuple[list[str], dict]:
    product = site.get(f"/api/products/{product_id}/", Accept="application/json").json()
    slug = next(
        c["slug"]
        for c in site.get("/api/categories/", Accept="application/json").json()
        if c["id"] == product["category"]
    )
    return [
        f"/api/products/{product_id}/",
        f"/api/products/?category={slug}",
        f"/products/{product_id}/",
        "/products/",
    ], product


def test_client_caches_revalidates_and_sees_writes(site, client):
    log = AccessLog(site)
    product_id = CLIENTS[client.name][1]
    paths, product = catalog_paths(site, product_id)
    log.settle()

    # 1. Within max-age the repeat comes from the client's cache: gunicorn sees one request.
    mark = log.mark()
    first: dict[str, Fetched] = {}
    for path in paths:
        first[path] = fetched = client.get(site.base_url + path)
        assert fetched.status == 200, path
        assert not fetched.from_cache, path
        assert fetched.etag, path
        assert product["name"].encode() in fetched.body, path
        repeat = client.get(site.base_url + path)
        assert repeat.from_cache and not repeat.revalidated, f"{client.name} did not reuse {path}"
        assert repeat.body == fetched.body
    log.settle()
    for path in paths:
        assert statuses(log.since(mark), path) == [200], f"{path}: {log.since(mark)}"

    # 2. Stale: the client revalidates, gunicorn answers 304, the client serves its stored body.
    time.sleep(STALE)
    mark = log.mark()
    for path in paths:
        revalidated = client.get(site.base_url + path)
        assert revalidated.status == 200, path
        assert revalidated.revalidated and revalidated.from_cache, f"{client.name} did not revalidate {path}"
        assert revalidated.body == first[path].body, path
        assert revalidated.etag == first[path].etag, path
    log.wait_for(lambda hits: all(statuses(hits, p) for p in paths), mark)
    log.settle()
    for path in paths:
        assert statuses(log.since(mark), path) == [304], f"{path}: {log.since(mark)}"

    # 3. A write, then the next revalidation brings the new body.
    new_name = f"Renamed for {client.name} {time.time_ns()}"
    detail = paths[0]
    written = site.request(
        "PATCH",
        detail,
        {**JSON, **site.auth, "If-Match": first[detail].etag},
        body={"name": new_name},
    )
    assert written.status == 200, written.body
    assert written.headers["ETag"] != first[detail].etag

    time.sleep(STALE)
    mark = log.mark()
    for path in paths:
        fresh = client.get(site.base_url + path)
        assert fresh.status == 200, path
        assert not fresh.from_cache, f"{client.name} served a stale {path} after the write"
        assert new_name.encode() in fresh.body, path
        assert fresh.etag != first[path].etag, path
        again = client.get(site.base_url + path)  # and stores it
        assert again.from_cache and again.body == fresh.body, path
    assert json.loads(client.get(site.base_url + detail).body)["name"] == new_name
    log.wait_for(lambda hits: all(statuses(hits, p) for p in paths), mark)
    log.settle()
    for path in paths:
        assert statuses(log.since(mark), path) == [200], f"{path}: {log.since(mark)}"
