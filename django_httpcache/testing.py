"""Assertions for your own tests (pytest or unittest): is this URL cached as you think?

Each takes a Django test ``Client`` (or ``AsyncClient`` wrapped by you) and a URL,
sends real requests through your middleware and views, and raises AssertionError
with the headers it saw when something is off. Rule ids are those of docs/conformance.md.

    from django_httpcache.testing import assert_cacheable, assert_conditional

    def test_catalog(client):
        assert_cacheable(client, "/products/", policy="catalog")
        assert_conditional(client, "/products/", change=lambda: Product.objects.first().save())
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

from django.db import connections
from django.http.response import HttpResponseBase

from .conf import conf
from .policy import parse_cache_control

__all__ = [
    "assert_cacheable",
    "assert_conditional",
    "assert_not_shareable",
    "assert_write_protected",
    "cache_control",
]

SHARED = ("public", "s-maxage", "proxy-revalidate")
REPEATED_ON_304 = ("Cache-Control", "Content-Location", "ETag", "Expires", "Vary")


def cache_control(response: HttpResponseBase) -> dict[str, str | None]:
    """The response's Cache-Control directives, names lowercased."""
    return dict(parse_cache_control(response.headers.get("Cache-Control", "")))


def _describe(response: HttpResponseBase) -> str:
    headers = {k: v for k, v in response.headers.items() if k in ("Cache-Control", "ETag", "Last-Modified", "Vary")}
    return f"{response.status_code} {headers}"


def _get(
    client: Any, url: str, headers: Mapping[str, str] | None, method: str = "get", **extra: str
) -> HttpResponseBase:
    return cast(HttpResponseBase, getattr(client, method)(url, headers={**(headers or {}), **extra}))


def assert_cacheable(
    client: Any,
    url: str,
    *,
    policy: str | None = None,
    shared: bool | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpResponseBase:
    """GET ``url``: a 200 with Cache-Control (equal to the named policy's header when
    given; shareable by CDNs or not, when ``shared`` is given). Returns the response."""
    response = _get(client, url, headers)
    assert response.status_code == 200, f"GET {url}: expected 200, got {_describe(response)}"
    assert "Cache-Control" in response.headers, f"GET {url}: no Cache-Control ({_describe(response)})"
    if policy is not None:
        expected = conf.policy(policy).header
        assert response.headers["Cache-Control"] == expected, (
            f"GET {url}: Cache-Control {response.headers['Cache-Control']!r}, policy {policy!r} is {expected!r}"
        )
    if shared is not None:
        directives = cache_control(response)
        is_shared = any(d in directives for d in SHARED) or not ({"private", "no-store"} & directives.keys())
        assert is_shared == shared, (
            f"GET {url}: expected {'shareable' if shared else 'not shareable'}: {_describe(response)}"
        )
    return response


def assert_conditional(
    client: Any,
    url: str,
    *,
    change: Callable[[], Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> HttpResponseBase:
    """The conditional flow: a 200 with validators, then 304s (GET and HEAD) repeating
    its cache headers without a body (R10-R12), then, after ``change()``, a 200 with
    a new tag for the old validators (R24). Returns the first response."""
    first = _get(client, url, headers)
    assert first.status_code == 200, f"GET {url}: expected 200, got {_describe(first)}"
    etag, modified = first.headers.get("ETag"), first.headers.get("Last-Modified")
    assert etag or modified, f"GET {url}: no ETag or Last-Modified to revalidate with ({_describe(first)})"
    validators: dict[str, str] = {"If-None-Match": etag} if etag else {"If-Modified-Since": str(modified)}
    for method in ("get", "head"):
        again = _get(client, url, headers, method, **validators)
        assert again.status_code == 304, (
            f"{method.upper()} {url} with {validators}: expected 304, got {_describe(again)}"
        )
        for name in REPEATED_ON_304:
            assert again.headers.get(name) == first.headers.get(name), (
                f"{method.upper()} {url}: the 304's {name} {again.headers.get(name)!r} differs from the 200's "
                f"{first.headers.get(name)!r}"
            )
        assert not getattr(again, "content", b""), f"{method.upper()} {url}: a 304 with a body"
    if change is not None:
        change()
        after = _get(client, url, headers, **validators)
        assert after.status_code == 200, f"GET {url} after the change with old {validators}: stale {_describe(after)}"
        if etag:
            assert after.headers.get("ETag") != etag, f"GET {url}: the change kept the tag {etag}"
    return first


def assert_not_shareable(client: Any, url: str, *, headers: Mapping[str, str] | None = None) -> HttpResponseBase:
    """GET ``url`` (e.g. logged in, or with an Authorization header): never ``public``
    or ``s-maxage``, and private or no-store (R20, R21)."""
    response = _get(client, url, headers)
    directives = cache_control(response)
    leaked = [d for d in SHARED if d in directives]
    assert not leaked, f"GET {url}: shareable directives {leaked}: {_describe(response)}"
    assert {"private", "no-store"} & directives.keys(), (
        f"GET {url}: neither private nor no-store, a shared cache may store it: {_describe(response)}"
    )
    return response


def assert_write_protected(
    client: Any,
    url: str,
    data: Any,
    *,
    method: str = "patch",
    required: bool = True,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> HttpResponseBase:
    """Lost-update protection of ``url``: without If-Match 428 (when ``required``), with
    a stale tag 412, with the current tag a 2xx carrying a new ETag (R05, R16, R17).
    Performs one real write. Returns the successful response."""
    send = getattr(client, method)
    if required:
        missing = send(url, data, content_type=content_type, headers=dict(headers or {}))
        assert missing.status_code == 428, (
            f"{method.upper()} {url} without If-Match: expected 428, got {missing.status_code}"
        )
    stale = send(url, data, content_type=content_type, headers={**(headers or {}), "If-Match": '"stale-tag"'})
    assert stale.status_code == 412, (
        f"{method.upper()} {url} with a stale If-Match: expected 412, got {stale.status_code}"
    )
    current = _get(client, url, headers).headers.get("ETag")
    assert current, f"GET {url}: no ETag to write with"
    written = send(url, data, content_type=content_type, headers={**(headers or {}), "If-Match": current})
    assert 200 <= written.status_code < 300, f"{method.upper()} {url} with the current tag: got {written.status_code}"
    new = written.headers.get("ETag")
    if new is not None:
        assert new != current, f"{method.upper()} {url}: the write returned the old ETag (R16)"
    elif written.status_code != 204:
        # Inside an open transaction (TestCase, ATOMIC_REQUESTS) a tag from versions that
        # move at commit is withheld rather than sent stale (validators.after_write).
        open_transaction = any(c.in_atomic_block for c in connections.all(initialized_only=True))
        assert open_transaction, f"{method.upper()} {url}: no new ETag (R16)"
    return cast(HttpResponseBase, written)
