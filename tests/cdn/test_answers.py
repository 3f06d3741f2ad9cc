"""How every backend reads its provider's answer: retry, wait, or give up (PurgeError)."""

from __future__ import annotations

import pytest
from django.utils.http import http_date

from django_httpcache.cdn.backends import PurgeError, load_backend
from django_httpcache.cdn.backends.transport import retry_after
from tests.cdn import test_akamai, test_cloudflare, test_cloudfront, test_fastly

BACKENDS = {
    "fastly": {"service_id": test_fastly.SERVICE, "api_token": test_fastly.TOKEN},
    "cloudflare": {"zone_id": test_cloudflare.ZONE, "api_token": test_cloudflare.TOKEN},
    "akamai": test_akamai.CREDENTIALS,
    "cloudfront": {**test_cloudfront.KEYS, "distribution_id": test_cloudfront.DISTRIBUTION, "tag_header": "Cache-Tag"},
    "purge": {"key_header": "Surrogate-Key"},
}


def refusal(backend):
    """The PurgeError a purge of one key ends in."""
    with pytest.raises(PurgeError) as raised:
        backend.purge_keys(["k"])
    return raised.value


@pytest.fixture(params=sorted(BACKENDS))
def backend_at(request, fake_api):
    api = fake_api(lambda seen: None, (200, {}, b'{"success": true}'))
    return api, load_backend(request.param, {**BACKENDS[request.param], "endpoint": api.url})


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_permanent(backend_at, status):
    api, backend = backend_at
    api.answer(status, "denied")
    error = refusal(backend)
    assert error.permanent and error.retry_after is None and f"{status}" in str(error)


@pytest.mark.parametrize("status", [408, 500, 502, 503, 504])
def test_server_errors_are_retried(backend_at, status):
    api, backend = backend_at
    api.answer(status, "busy")
    error = refusal(backend)
    assert not error.permanent


def test_a_429_waits_as_long_as_retry_after_says(backend_at):
    api, backend = backend_at
    api.answer(429, "slow down", Retry_After="7")
    error = refusal(backend)
    assert error.retry_after == 7.0 and not error.permanent


def test_a_refused_connection_is_retried(backend_at):
    _, backend = backend_at
    backend.options["endpoint"] = "http://127.0.0.1:9"  # discard port: nothing listens
    error = refusal(backend)
    assert not error.permanent


def test_a_redirect_is_not_followed(backend_at):
    api, backend = backend_at
    api.answer(301, "", Location="https://elsewhere.example/")
    error = refusal(backend)
    assert error.permanent and len(api.seen) == 1


def test_retry_after_reads_seconds_and_http_dates():
    assert retry_after({"Retry-After": "120"}) == 120.0
    assert retry_after({"Retry-After": http_date(1_000_090)}, now=1_000_000.0) == 90.0
    assert retry_after({"Retry-After": http_date(1_000_000)}, now=1_000_090.0) == 0.0
    assert retry_after({"Retry-After": "soon"}) is None
    assert retry_after({}) is None


def test_an_endpoint_may_end_in_a_slash(backend_at):
    api, backend = backend_at
    backend.options["endpoint"] += "/"
    backend.purge_keys(["k"])
    assert "//" not in api.seen[0].path
