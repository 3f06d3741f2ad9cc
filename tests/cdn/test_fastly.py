"""Fastly: POST /service/{id}/purge, keys in the Surrogate-Key header, Fastly-Key auth."""

from __future__ import annotations

import json

import pytest

from django_httpcache.cdn.backends import PurgeError, load_backend
from django_httpcache.cdn.purge import purge_now

SERVICE, TOKEN = "SU1Z0isxPaozGVKXdv0eY", "fastly-token"


def check(seen):
    """Fastly's documented batch purge (and single URL purge) request."""
    if seen.method != "POST":
        return f"method {seen.method}"
    if seen.headers["Fastly-Key"] != TOKEN:
        return "Fastly-Key missing or wrong"
    if seen.path.startswith("/purge/"):
        return None
    if seen.path != f"/service/{SERVICE}/purge":
        return f"path {seen.path}"
    if "Surrogate-Key" in seen.headers:
        keys = seen.headers["Surrogate-Key"].split(" ")
        if seen.body:
            return "keys both in the header and the body"
    else:
        if seen.headers["Content-Type"] != "application/json":
            return "JSON body without Content-Type"
        keys = seen.json()["surrogate_keys"]
    if not 1 <= len(keys) <= 256 or any(len(key.encode()) > 1024 for key in keys):
        return f"{len(keys)} keys: Fastly takes 1 to 256 keys of at most 1,024 bytes"
    return None


@pytest.fixture
def fastly(fake_api):
    api = fake_api(check, (200, {"Content-Type": "application/json"}, b'{"a": "108-1391560174-974124"}'))
    backend = load_backend("fastly", {"endpoint": api.url, "service_id": SERVICE, "api_token": TOKEN})
    return api, backend


def test_budget_is_fastlys_documented_limits():
    backend = load_backend("fastly", {"service_id": SERVICE, "api_token": TOKEN})
    assert (backend.header, backend.separator, backend.max_header_bytes) == ("Surrogate-Key", " ", 16384)
    assert (backend.max_tag_bytes, backend.max_keys_per_request, backend.strips_header) == (1024, 256, True)
    assert backend.option("endpoint") == "https://api.fastly.com"


def test_keys_go_in_one_request_in_the_surrogate_key_header(fastly):
    api, backend = fastly
    backend.purge_keys(["catalog.product", "catalog.product.1", "catalog.product.2"])
    (seen,) = api.seen
    assert seen.headers["Surrogate-Key"] == "catalog.product catalog.product.1 catalog.product.2"
    assert seen.body == b"" and seen.headers["Content-Length"] == "0"
    assert "Fastly-Soft-Purge" not in seen.headers


def test_soft_purge_sends_the_soft_purge_header(fake_api):
    api = fake_api(check, (200, {}, b"{}"))
    options = {"endpoint": api.url, "service_id": SERVICE, "api_token": TOKEN, "soft_purge": True}
    load_backend("fastly", options).purge_keys(["k"])
    assert api.seen[0].headers["Fastly-Soft-Purge"] == "1"


def test_keys_too_long_for_a_request_header_go_in_the_json_body(fastly):
    api, backend = fastly
    keys = [f"{i:04d}-" + "k" * 995 for i in range(256)]  # 256 keys of 1,000 bytes
    backend.purge_keys(keys)
    (seen,) = api.seen
    assert "Surrogate-Key" not in seen.headers
    assert json.loads(seen.body) == {"surrogate_keys": keys}


def test_a_thousand_keys_arrive_in_requests_of_at_most_256(fastly):
    api, backend = fastly
    keys = [f"catalog.product.{i:04d}" for i in range(1000)]
    purge_now(keys, backend)  # the purge queue's chunking
    sent = [seen.headers["Surrogate-Key"].split(" ") for seen in api.seen]
    assert [len(s) for s in sent] == [256, 256, 256, 232]
    assert [key for keys_sent in sent for key in keys_sent] == keys


def test_a_url_is_purged_through_the_api(fastly):
    api, backend = fastly
    backend.purge_urls(["https://www.example.com/products/?page=2"])
    assert api.seen[0].path == "/purge/www.example.com/products/?page=2"


def test_the_rate_limit_reset_time_is_the_retry_delay(fastly, monkeypatch):
    api, backend = fastly
    monkeypatch.setattr("time.time", lambda: 1_700_000_000.0)
    api.answer(429, "Too many requests", Fastly_RateLimit_Reset="1700000030")
    with pytest.raises(PurgeError) as raised:
        backend.purge_keys(["k"])
    assert raised.value.retry_after == 30.0 and not raised.value.permanent
