"""Akamai Fast Purge v3: POST /ccu/v3/{invalidate|delete}/tag/{network}, EdgeGrid-signed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

import pytest

from django_httpcache.cdn.backends import PurgeError, load_backend
from django_httpcache.cdn.purge import purge_now

CREDENTIALS = {
    "host": "akab-h05tnam3wl42son7nktnlnnx-kbob3i3v.luna.akamaiapis.net",
    "client_token": "akab-c113ntt0k3n4qtari252bfxxbsl-yvsdj",
    "client_secret": "C113nt53KR3TN6N90yVuAgICxIRwsObLi0E67/N8eRN=",
    "access_token": "akab-acc35t0k3nodujqunph3w7hzp7-gtm6ij",
}
AUTHORIZATION = re.compile(
    r"EG1-HMAC-SHA256 client_token=(?P<client>[^;]+);access_token=(?P<access>[^;]+);"
    r"timestamp=(?P<when>\d{8}T\d\d:\d\d:\d\d\+0000);nonce=(?P<nonce>[0-9a-f-]{36});signature=(?P<sig>[A-Za-z0-9+/=]{44})\Z"
)
ACCEPTED = (
    201,
    {"Content-Type": "application/json"},
    b'{"httpStatus": 201, "detail": "Request accepted", '
    b'"estimatedSeconds": 5, "purgeId": "e535071c", "supportId": "17PY1321286429616716-211907680"}',
)


def signature_problem(seen):
    """Re-derive the EdgeGrid signature step by step, as Akamai's servers do."""
    match = AUTHORIZATION.match(seen.headers.get("Authorization", ""))
    if not match:
        return f"malformed Authorization: {seen.headers.get('Authorization')!r}"
    if (match["client"], match["access"]) != (CREDENTIALS["client_token"], CREDENTIALS["access_token"]):
        return "unknown client or access token"
    unsigned = seen.headers["Authorization"][: match.start("sig") - len("signature=")]
    content_hash = base64.b64encode(hashlib.sha256(seen.body).digest()).decode()
    data = "\t".join(["POST", "http", seen.headers["Host"], seen.path, "", content_hash, unsigned])
    key = base64.b64encode(hmac.new(CREDENTIALS["client_secret"].encode(), match["when"].encode(), "sha256").digest())
    expected = base64.b64encode(hmac.new(key, data.encode(), "sha256").digest()).decode()
    return None if hmac.compare_digest(expected, match["sig"]) else "signature does not verify"


def check(seen):
    """Fast Purge's documented request: JSON {"objects": [...]}, under 50,000 bytes, signed."""
    if seen.method != "POST" or not re.fullmatch(
        r"/ccu/v3/(invalidate|delete)/(tag|url)/(production|staging)", seen.path
    ):
        return f"{seen.method} {seen.path}"
    if len(seen.body) > 50000:
        return "413: body over 50,000 bytes"
    if seen.headers["Content-Type"] != "application/json" or list(seen.json()) != ["objects"]:
        return "body must be JSON {'objects': [...]}"
    if "/tag/" in seen.path and any(len(tag) > 128 for tag in seen.json()["objects"]):
        return "a cache tag is over 128 characters"
    return signature_problem(seen)


@pytest.fixture
def akamai(fake_api):
    api = fake_api(check, ACCEPTED)
    return api, load_backend("akamai", {**CREDENTIALS, "endpoint": api.url})


def test_budget_is_akamais_documented_limits():
    backend = load_backend("akamai", CREDENTIALS)
    assert (backend.header, backend.separator, backend.max_header_bytes) == ("Edge-Cache-Tag", ",", 8192)
    assert (backend.max_tags, backend.max_tag_bytes, backend.max_keys_per_request) == (128, 128, 300)


def test_tags_are_invalidated_on_production_by_a_signed_request(akamai):
    api, backend = akamai
    backend.purge_keys(["catalog.product", "catalog.product.7"])
    (seen,) = api.seen
    assert seen.path == "/ccu/v3/invalidate/tag/production"
    assert seen.json() == {"objects": ["catalog.product", "catalog.product.7"]}


def test_network_and_action_options_choose_the_path(fake_api):
    api = fake_api(check, ACCEPTED)
    options = {**CREDENTIALS, "endpoint": api.url, "network": "staging", "action": "delete"}
    load_backend("akamai", options).purge_keys(["k"])
    assert api.seen[0].path == "/ccu/v3/delete/tag/staging"


def test_a_chunk_of_the_longest_tags_fits_the_body_limit(akamai):
    api, backend = akamai
    keys = [f"{i:04d}" + "t" * 124 for i in range(1000)]  # 128 characters each
    purge_now(keys, backend)  # the purge queue's chunking
    assert [len(seen.json()["objects"]) for seen in api.seen] == [300, 300, 300, 100]


def test_urls_are_split_under_the_body_limit(akamai):
    api, backend = akamai
    urls = [f"https://www.example.com/products/{i:05d}/" + "x" * 400 for i in range(300)]
    backend.purge_urls(urls)
    assert len(api.seen) == 3 and all(seen.path == "/ccu/v3/invalidate/url/production" for seen in api.seen)
    assert [url for seen in api.seen for url in seen.json()["objects"]] == urls


def test_a_bad_signature_is_refused(fake_api):
    api = fake_api(check, ACCEPTED)
    backend = load_backend("akamai", {**CREDENTIALS, "client_secret": "wrong", "endpoint": api.url})
    with pytest.raises(PurgeError) as raised:
        backend.purge_keys(["k"])
    assert raised.value.permanent and "signature does not verify" in str(raised.value)


def test_a_429_without_retry_after_waits_the_documented_five_seconds(akamai):
    api, backend = akamai
    body = json.dumps({"title": "Rate Limit exceeded", "httpStatus": 429, "rateLimitRemaining": 0})
    api.answer(429, body, X_Ratelimit_Remaining="0", Content_Type="application/api-problem+json")
    with pytest.raises(PurgeError) as raised:
        backend.purge_keys(["k"])
    assert raised.value.retry_after == 5.0 and not raised.value.permanent
