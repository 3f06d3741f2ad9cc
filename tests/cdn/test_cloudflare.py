"""Cloudflare: POST /client/v4/zones/{zone}/purge_cache {"tags": [...]}, Bearer token."""

from __future__ import annotations

import json

import pytest

from django_httpcache.cdn.backends import PurgeError, load_backend
from django_httpcache.cdn.purge import purge_now

ZONE, TOKEN = "023e105f4ecef8ad9ca31a8372d0c353", "cf-token"
OK = (
    200,
    {"Content-Type": "application/json"},
    b'{"success": true, "errors": [], "messages": [], "result": {"id": "x"}}',
)


def check(seen):
    """Cloudflare's documented purge_cache request: at most 100 tags (or files) a call."""
    if (seen.method, seen.path) != ("POST", f"/client/v4/zones/{ZONE}/purge_cache"):
        return f"{seen.method} {seen.path}"
    if seen.headers["Authorization"] != f"Bearer {TOKEN}":
        return "Authorization must be 'Bearer <token>'"
    if seen.headers["Content-Type"] != "application/json":
        return "Content-Type must be application/json"
    payload = seen.json()
    if len(payload) != 1 or not ({"tags", "files"} >= payload.keys()):
        return f"body must be one of tags or files: {payload}"
    (items,) = payload.values()
    if not 1 <= len(items) <= 100:
        return f"{len(items)} items: at most 100 operations a request"
    return None


@pytest.fixture
def cloudflare(fake_api):
    api = fake_api(check, OK)
    return api, load_backend("cloudflare", {"endpoint": api.url, "zone_id": ZONE, "api_token": TOKEN})


def test_budget_is_cloudflares_documented_limits():
    backend = load_backend("cloudflare", {})
    assert (backend.header, backend.separator, backend.max_header_bytes) == ("Cache-Tag", ",", 16384)
    assert (backend.max_tags, backend.max_keys_per_request, backend.strips_header) == (1000, 100, True)


def test_a_thousand_tags_arrive_as_ten_requests_of_at_most_one_hundred(cloudflare):
    api, backend = cloudflare
    keys = [f"catalog.product.{i:04d}" for i in range(1000)]
    purge_now(keys, backend)  # the purge queue's chunking
    assert len(api.seen) == 10
    assert [tag for seen in api.seen for tag in seen.json()["tags"]] == keys


def test_the_fake_refuses_what_cloudflare_refuses(cloudflare):
    _, backend = cloudflare
    with pytest.raises(PurgeError) as raised:
        backend.purge_keys([f"k{i}" for i in range(101)])
    assert raised.value.permanent and "at most 100" in str(raised.value)


def test_urls_go_as_files_in_chunks_of_urls_per_request(cloudflare):
    api, backend = cloudflare
    urls = [f"https://www.example.com/products/{i}/" for i in range(150)]
    backend.purge_urls(urls)
    assert [len(seen.json()["files"]) for seen in api.seen] == [100, 50]


def test_an_answer_without_success_is_a_permanent_error(cloudflare):
    api, backend = cloudflare
    api.answer(200, json.dumps({"success": False, "errors": [{"code": 1134, "message": "Invalid tag"}]}))
    with pytest.raises(PurgeError) as raised:
        backend.purge_keys(["k"])
    assert raised.value.permanent and "Invalid tag" in str(raised.value)


def test_a_rate_limited_purge_waits_as_retry_after_says(cloudflare):
    api, backend = cloudflare
    api.answer(429, '{"success": false, "errors": [{"code": 971, "message": "Please wait"}]}', Retry_After="12")
    with pytest.raises(PurgeError) as raised:
        backend.purge_keys(["k"])
    assert raised.value.retry_after == 12.0 and not raised.value.permanent
