"""The example under gunicorn, 3 workers: validators cover what a view reads (issue 10).

The example declares no dependencies; product pages show their category's name and tag
names. Once every worker has learned what the views read, renaming a category or a tag
from another process makes every page that shows it a 200 on every worker, and a page
that does not read it stays 304.
"""

from __future__ import annotations

import json

import pytest

from tests.live.server import Server, example_server

pytestmark = pytest.mark.live

MODES = {
    "aggregate": {},
    "counter mode, file store": {"HTTPCACHE_VERSION_MODE": "counter"},
}
JSON = {"Accept": "application/json"}
PRODUCT_URLS = ["/api/products/1/", "/api/products/?page_size=10", "/products/1/", "/products/"]
WORKERS = 3
ROUNDS = 5 * WORKERS  # enough requests that every worker answers


def get(server: Server, url: str, etag: str | None = None):
    headers = {**JSON, **({"If-None-Match": etag} if etag else {})}
    return server.request("GET", url, headers)


def warm(server: Server, url: str) -> str:
    """GET until the ETag is the same many times in a row (every worker has learned what
    the view reads), then check every worker revalidates it to a 304."""
    seen: list[str | None] = []
    for _ in range(20 * WORKERS):
        response = get(server, url)
        assert response.status == 200, (url, response.status)
        seen.append(response.headers.get("ETag"))
        if len(seen) >= 3 * WORKERS and seen[-1] and len(set(seen[-3 * WORKERS :])) == 1:
            break
    else:
        pytest.fail(f"no settled ETag on {url}: {seen}")
    etag = seen[-1]
    statuses = [get(server, url, etag).status for _ in range(ROUNDS)]
    assert statuses == [304] * ROUNDS, f"{url} does not revalidate on every worker: {statuses}"
    return etag


def shell(server: Server, code: str) -> None:
    """Run ``code`` in another process against the same database and version store."""
    server.manage("shell", "-c", code)


def assert_changed(server: Server, urls: dict[str, str], name: str) -> None:
    for url, etag in urls.items():
        for _ in range(ROUNDS):
            response = get(server, url, etag)
            assert response.status == 200, f"stale 304 on {url} (old ETag {etag})"
            assert name in response.body.decode(), f"{url} does not show {name!r}"


def assert_unchanged(server: Server, url: str, etag: str) -> None:
    statuses = [get(server, url, etag).status for _ in range(ROUNDS)]
    assert statuses == [304] * ROUNDS, f"{url} changed though it does not read what was renamed: {statuses}"


@pytest.mark.parametrize("env", MODES.values(), ids=list(MODES))
def test_renames_reach_every_page_on_every_worker(env):
    with example_server(workers=WORKERS, env=env) as server:
        product = get(server, "/api/products/1/").json()
        assert product["category_name"] and product["tags"], product
        category, tag = product["category"], product["tags"][0]

        # A category renamed (queryset update) from another process.
        etags = {url: warm(server, url) for url in [*PRODUCT_URLS, "/api/tags/"]}
        shell(
            server,
            f"from catalog.models import Category; Category.objects.filter(pk={category}).update(name='Vinyl Records')",
        )
        assert_changed(server, {url: etags[url] for url in PRODUCT_URLS}, "Vinyl Records")
        assert_unchanged(server, "/api/tags/", etags["/api/tags/"])

        # A tag renamed (save) from another process.
        affected = [*PRODUCT_URLS, "/api/tags/"]
        etags = {url: warm(server, url) for url in [*affected, "/api/categories/"]}
        shell(
            server,
            "from catalog.models import Tag; "
            f"tag = Tag.objects.get(name={json.dumps(tag)}); tag.name = 'clearance'; tag.save()",
        )
        assert_changed(server, {url: etags[url] for url in affected}, "clearance")
        assert_unchanged(server, "/api/categories/", etags["/api/categories/"])

        # Through the API too: PATCH with If-Match, as the demo user.
        etags = {url: warm(server, url) for url in ["/api/products/1/", "/products/1/", "/api/tags/"]}
        write = server.request(
            "PATCH",
            "/api/products/1/",
            {**server.auth, **JSON, "If-Match": etags["/api/products/1/"]},
            {"description": "Described elsewhere."},
        )
        assert write.status == 200, write.body
        assert_changed(
            server, {url: etags[url] for url in ["/api/products/1/", "/products/1/"]}, "Described elsewhere."
        )
        assert_unchanged(server, "/api/tags/", etags["/api/tags/"])
