"""Varnish (Debian's varnish 7.x) in front of the example project under gunicorn.

What a shared cache does with the library's headers, checked against the real thing:

- public catalog responses (HTML and DRF, list and detail) are stored and served as HITs;
- once stale, Varnish revalidates with a conditional request and the origin answers 304
  (the gunicorn access log, which sees only Varnish's backend requests, shows the 304s);
- after a write, the revalidation gets a 200 with the new body, which Varnish then serves;
- nothing sent with Authorization or a session cookie is ever stored or served to
  someone else, and the public copy is never served in place of a private one;
- no-store responses are never HITs;
- and, with a deliberately unsafe VCL that stores everything and ignores `private`, the
  library's `Vary: Authorization, Cookie` alone still keeps users' responses apart.

The VCL is tests/e2e/varnish.vcl: builtin behaviour for credentials kept, freshness cut to
TTL seconds with keep (not grace), so that a stale copy is revalidated, not refetched.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.live.server import Response, basic_auth

from .conftest import require
from .peers import AccessLog, Hit, Varnish, add_user, render_vcl, sbin_which, session_cookie, varnish

VCL = Path(__file__).with_name("varnish.vcl")
TTL = 2  # seconds: beresp.ttl in the VCL, long enough for a HIT on a loaded machine
STALE = TTL + 0.7  # sleep this long to be sure Varnish's copy is stale

JSON = {"Accept": "application/json"}
ALICE = basic_auth("demo", "demo-password")  # the seeded user
BOB = basic_auth("bob", "bob-password")  # created below


@pytest.fixture(scope="module")
def cache(site):
    binary = sbin_which("varnishd")
    require("varnishd", binary is not None, "install the Debian package varnish (make prereqs does)")
    port = int(site.base_url.rsplit(":", 1)[1])
    with varnish(binary, site, render_vcl(VCL.read_text(), backend_port=port, ttl=f"{TTL}s")) as instance:
        yield instance


@pytest.fixture(scope="module")
def log(site) -> AccessLog:
    return AccessLog(site)


def x_cache(response: Response) -> str:
    return response.headers.get("X-Cache", "")


def describe(response: Response) -> str:
    headers = "\n".join(f"  {k}: {v}" for k, v in response.headers.items())
    return f"{response.status}\n{headers}\n  body: {response.body[:300]!r}"


def assert_hit(response: Response, cache: Varnish, path: str = "") -> None:
    # X-Varnish holds two transaction ids on a hit (this request's and the stored object's).
    assert response.status == 200, f"{path}: {describe(response)}"
    assert x_cache(response) == "HIT", f"{path}: {describe(response)}\n{cache.varnishlog()}"
    assert len(response.headers["X-Varnish"].split()) == 2, f"{path}: {describe(response)}"


def assert_not_from_cache(response: Response, path: str = "") -> None:
    assert x_cache(response) == "MISS", f"{path}: {describe(response)}"
    assert len(response.headers["X-Varnish"].split()) == 1, f"{path}: {describe(response)}"


def statuses(hits: list[Hit], path: str) -> list[int]:
    return [hit.status for hit in hits if hit.target == path]


def test_public_catalog_is_a_hit_then_revalidated_with_304(cache, log):
    paths = ["/api/products/", "/api/products/1/", "/products/", "/products/1/"]
    mark = log.mark()
    first: dict[str, Response] = {}
    for path in paths:
        # Varnish stores the public response: the repeat, right after, is a HIT.
        first[path] = cache.get(path, JSON)
        assert first[path].status == 200, f"{path}: {describe(first[path])}"
        assert_hit(second := cache.get(path, JSON), cache, path)
        assert second.body == first[path].body
        assert "s-maxage=600" in first[path].headers["Cache-Control"], describe(first[path])
        assert "ETag" in first[path].headers and "Last-Modified" in first[path].headers, describe(first[path])
    log.settle()
    for path in paths:  # the HITs never reached Django: one request each
        assert statuses(log.since(mark), path) == [200], log.since(mark)

    # Stale after TTL: Varnish asks with If-None-Match / If-Modified-Since, Django says 304,
    # and Varnish serves its stored body with the refreshed headers.
    time.sleep(STALE)
    mark = log.mark()
    for path in paths:
        third = cache.get(path, JSON)
        assert third.status == 200, f"{path}: {describe(third)}"
        assert third.body == first[path].body, path
        assert third.headers.get("X-Backend-304") == "true", f"{path}: {describe(third)}\n{cache.varnishlog()}"
        # R11/R12: what the 304 carried (and Varnish merged) equals what the 200 had.
        for name in ("ETag", "Cache-Control", "Vary", "Last-Modified"):
            assert third.headers.get(name) == first[path].headers.get(name), f"{path} {name}: {describe(third)}"
        # The refreshed object is fresh again: a HIT.
        assert_hit(cache.get(path, JSON), cache, path)
    log.wait_for(lambda hits: all(statuses(hits, p) for p in paths), mark)
    log.settle()
    for path in paths:
        assert statuses(log.since(mark), path) == [304], log.since(mark)


def category_slug(cache: Varnish, category_id: int) -> str:
    categories = json.loads(cache.backend.get("/api/categories/", Accept="application/json").body)
    return next(c["slug"] for c in categories if c["id"] == category_id)


def test_write_then_revalidation_serves_the_new_body(cache, log):
    detail = "/api/products/2/"
    product = json.loads(cache.backend.get(detail, Accept="application/json").body)
    paths = [detail, f"/api/products/?category={category_slug(cache, product['category'])}", "/products/2/"]
    old: dict[str, Response] = {}
    for path in paths:
        old[path] = cache.get(path, JSON)
        assert old[path].status == 200, f"{path}: {describe(old[path])}"
        assert_hit(cache.get(path, JSON), cache, path)
        assert product["name"].encode() in old[path].body, path

    # The write goes through Varnish (which passes it: PATCH, Authorization) to Django.
    new_name = f"Renamed through Varnish {time.time_ns()}"
    written = cache.request(
        "PATCH",
        detail,
        {**JSON, **ALICE, "Content-Type": "application/json", "If-Match": old[detail].headers["ETag"]},
        json.dumps({"name": new_name}).encode(),
    )
    assert written.status == 200, describe(written)
    assert written.headers["ETag"] != old[detail].headers["ETag"]
    assert_not_from_cache(written)

    time.sleep(STALE)
    mark = log.mark()
    fresh: dict[str, Response] = {}
    for path in paths:
        fresh[path] = response = cache.get(path, JSON)
        assert response.status == 200, f"{path}: {describe(response)}"
        assert new_name.encode() in response.body, f"{path}: {describe(response)}"
        assert response.headers["ETag"] != old[path].headers["ETag"], path
        # Revalidated with the old validators, and Django did not say 304: a full 200.
        assert response.headers.get("X-Backend-304") == "false", f"{path}: {describe(response)}"
        # The new body is what Varnish stores and serves from now on.
        again = cache.get(path, JSON)
        assert_hit(again, cache, path)
        assert again.body == response.body, path
    assert fresh[detail].headers["ETag"] == written.headers["ETag"]  # R16: the PATCH's tag is the GET's
    log.wait_for(lambda hits: all(statuses(hits, p) for p in paths), mark)
    log.settle()
    for path in paths:
        assert statuses(log.since(mark), path) == [200], log.since(mark)


def test_credentials_are_never_served_to_someone_else(site, cache, log):
    add_user(site, "bob", "bob-password")
    alice_session, bob_session = session_cookie(site, "demo"), session_cookie(site, "bob")
    me = "/api/me/"
    mark = log.mark()
    asked = 0

    def get(headers: dict[str, str]) -> Response:
        nonlocal asked
        asked += 1
        response = cache.get(me, {**JSON, **headers})
        # Never a HIT, whoever asks: each request is answered by Django itself.
        assert_not_from_cache(response)
        return response

    def username(response: Response) -> str:
        assert response.status == 200, describe(response)
        assert response.headers["Cache-Control"] == "private, no-cache"
        return json.loads(response.body)["username"]

    for _ in range(2):
        assert username(get(ALICE)) == "demo"
        anonymous = get({})
        assert anonymous.status == 401, describe(anonymous)
        assert b"demo" not in anonymous.body
        assert username(get(BOB)) == "bob"
        assert username(get({"Cookie": alice_session})) == "demo"
        assert username(get({"Cookie": bob_session})) == "bob"
        assert get({}).status == 401
    hits = log.wait_for(lambda hits: sum(h.target == me for h in hits) >= asked, mark)
    assert sum(h.target == me for h in hits) == asked, "a request for /api/me/ was answered by Varnish"


@pytest.mark.parametrize(
    ("credentials", "path"), [("authorization", "/api/products/7/"), ("session", "/api/products/8/")]
)
def test_public_resource_asked_with_credentials_is_not_shared(site, cache, credentials, path):
    # A product per case that no other test fetches, so nothing is stored for it yet.
    headers = {**JSON, **(ALICE if credentials == "authorization" else {"Cookie": session_cookie(site, "demo")})}

    private = cache.get(path, headers)
    assert private.status == 200, describe(private)
    assert_not_from_cache(private)
    assert private.headers["Cache-Control"].startswith("private"), describe(private)
    assert "s-maxage" not in private.headers["Cache-Control"]
    assert {"authorization", "cookie"} <= {v.strip().lower() for v in private.headers["Vary"].split(",")}

    # The credentialed response was not stored: the anonymous request goes to Django and gets
    # the public representation, which Varnish stores...
    public = cache.get(path, JSON)
    assert_not_from_cache(public)
    assert public.headers["Cache-Control"].startswith("public"), describe(public)
    assert_hit(cache.get(path, JSON), cache, path)

    # ...but does not hand to the credentialed request, which Varnish passes to Django.
    again = cache.get(path, headers)
    assert_not_from_cache(again)
    assert again.headers["Cache-Control"].startswith("private"), describe(again)


@pytest.mark.parametrize("path", ["/health/", "/api/ping/"])
def test_no_store_is_never_a_hit(cache, log, path):
    mark = log.mark()
    for _ in range(3):
        response = cache.get(path, JSON)
        assert response.status == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert_not_from_cache(response)
    hits = log.wait_for(lambda hits: sum(h.target == path for h in hits) >= 3, mark)
    assert sum(h.target == path for h in hits) == 3


# A deliberately unsafe cache: it looks up requests with Authorization or Cookie and stores
# everything, ignoring `private` and `no-cache`, but it honours Vary (as RFC 9111 §4.1
# requires of every cache). What then keeps one user's response from another is only the
# library's `Vary: Authorization, Cookie` on responses that depend on who asks (R19).
UNSAFE_VCL = """vcl 4.1;
backend default { .host = "127.0.0.1"; .port = "@BACKEND_PORT@"; }
sub vcl_recv { return (hash); }
sub vcl_backend_response {
    set beresp.http.X-Origin-Cache-Control = beresp.http.Cache-Control;
    unset beresp.http.Cache-Control;
    set beresp.ttl = 60s;
    return (deliver);
}
sub vcl_deliver {
    if (obj.hits > 0) { set resp.http.X-Cache = "HIT"; } else { set resp.http.X-Cache = "MISS"; }
}
"""


@pytest.fixture(scope="module")
def unsafe_cache(site, cache):  # `cache` first: it checks that varnishd is installed
    port = int(site.base_url.rsplit(":", 1)[1])
    with varnish(sbin_which("varnishd"), site, render_vcl(UNSAFE_VCL, backend_port=port)) as instance:
        yield instance


def test_vary_keeps_users_apart_even_in_a_cache_that_ignores_private(site, unsafe_cache):
    add_user(site, "bob", "bob-password")
    alice_session, bob_session = session_cookie(site, "demo"), session_cookie(site, "bob")
    askers = {
        "alice (basic)": (ALICE, "demo"),
        "bob (basic)": (BOB, "bob"),
        "alice (session)": ({"Cookie": alice_session}, "demo"),
        "bob (session)": ({"Cookie": bob_session}, "bob"),
        "anonymous": ({}, None),
    }
    for round_ in ("stored", "served from the cache"):
        for who, (headers, expected) in askers.items():
            response = unsafe_cache.get("/api/me/", {**JSON, **headers})
            # The first round fills the cache with one copy per asker; the second is served
            # from it, so the test shows Vary at work and not a cache that stored nothing.
            assert response.headers["X-Cache"] == ("MISS" if round_ == "stored" else "HIT"), f"{who}: {round_}"
            if expected is None:
                assert response.status == 401, f"{who}: {describe(response)}"
                assert b"demo" not in response.body and b"bob" not in response.body, f"{who}: {describe(response)}"
            else:
                assert response.status == 200, f"{who}: {describe(response)}"
                assert json.loads(response.body)["username"] == expected, f"{who} got {describe(response)}"
            vary = {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}
            assert {"authorization", "cookie"} <= vary, f"{who}: {describe(response)}"

    # A public resource asked with credentials first: the anonymous visitor must not get the
    # credentialed (private) response, and gets the public one.
    path = "/api/products/9/"
    private = unsafe_cache.get(path, {**JSON, **ALICE})
    assert private.headers["X-Cache"] == "MISS"
    assert private.headers["X-Origin-Cache-Control"].startswith("private"), describe(private)
    public = unsafe_cache.get(path, JSON)
    assert public.headers["X-Cache"] == "MISS", describe(public)
    assert public.headers["X-Origin-Cache-Control"].startswith("public"), describe(public)
    assert unsafe_cache.get(path, JSON).headers["X-Cache"] == "HIT"
