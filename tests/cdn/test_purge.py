"""Generic PURGE: of URLs (Host kept), and of keys through a configured request header."""

from __future__ import annotations

import pytest

from django_httpcache.cdn.backends import PurgeError, load_backend


def check(seen):
    """A cache's purge handler: only PURGE (or BAN), with the shared secret."""
    if seen.method not in ("PURGE", "BAN"):
        return f"method {seen.method}"
    if seen.headers["X-Purge-Secret"] != "s3cret":
        return "403 without the secret"
    return None


@pytest.fixture
def cache(fake_api):
    return fake_api(check, (200, {}, b"Purged"))


def purge(api, **options):
    defaults = {"endpoint": api.url, "key_header": "xkey-purge", "headers": {"X-Purge-Secret": "s3cret"}}
    return load_backend("purge", {**defaults, **options})


def test_a_url_purge_goes_to_the_endpoint_with_the_sites_host(cache):
    purge(cache).purge_urls(["https://www.example.com/products/?page=2"])
    (seen,) = cache.seen
    assert (seen.method, seen.path, seen.headers["Host"]) == ("PURGE", "/products/?page=2", "www.example.com")


def test_without_an_endpoint_a_url_is_purged_where_it_lives(cache):
    load_backend("purge", {"headers": {"X-Purge-Secret": "s3cret"}}).purge_urls([f"{cache.url}/a/"])
    assert cache.seen[0].path == "/a/" and cache.seen[0].headers["Host"] == cache.url.removeprefix("http://")


def test_a_relative_url_without_an_endpoint_is_a_permanent_error():
    with pytest.raises(PurgeError) as raised:
        load_backend("purge", {}).purge_urls(["/products/"])
    assert raised.value.permanent and "'/products/'" in str(raised.value)


def test_a_url_with_nothing_cached_is_not_an_error(cache):
    cache.answer(404, "Not in cache")
    purge(cache).purge_urls(["https://www.example.com/gone/"])


def test_keys_go_in_the_key_header_split_under_eight_kilobytes(cache):
    keys = [f"{i:03d}" + "k" * 96 for i in range(200)]  # 200 keys of 99 bytes: 19,999 bytes joined
    purge(cache, method="BAN").purge_keys(keys)
    sent = [seen.headers["xkey-purge"].split(" ") for seen in cache.seen]
    assert all(seen.method == "BAN" and seen.path == "/" for seen in cache.seen)
    assert len(sent) == 3 and all(len(" ".join(s)) <= 8000 for s in sent) and [key for s in sent for key in s] == keys


def test_a_key_purge_answered_404_is_an_error(cache):
    cache.answer(404, "no such endpoint")
    with pytest.raises(PurgeError) as raised:
        purge(cache).purge_keys(["k"])
    assert raised.value.permanent


def test_keys_cannot_be_purged_without_a_key_header(cache):
    with pytest.raises(NotImplementedError):
        load_backend("purge", {"endpoint": cache.url}).purge_keys(["k"])


def test_tag_header_and_budget_are_options():
    backend = load_backend("purge", {"tag_header": "xkey", "max_header_bytes": 4096, "strips_header": True})
    assert (backend.header, backend.separator, backend.max_header_bytes, backend.strips_header) == (
        "xkey",
        " ",
        4096,
        True,
    )
    assert load_backend("purge", {}).header == "Surrogate-Key"
