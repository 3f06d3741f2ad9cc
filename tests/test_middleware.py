"""HttpCacheMiddleware: rules, body-hash ETags, 304s, GZip, cookies, sync and async."""

from __future__ import annotations

import gzip
import hashlib

import pytest

from django_httpcache.preconditions import NOT_MODIFIED_HEADERS

CATALOG_HEADER = "public, max-age=60, s-maxage=600, stale-while-revalidate=30, stale-if-error=86400"
GZIP_FIRST = [
    "django.middleware.gzip.GZipMiddleware",
    "django_httpcache.middleware.HttpCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]


def sha1_tag(body: bytes, content_type: str = "text/html; charset=utf-8") -> str:
    hasher = hashlib.sha1(f"{content_type}\x1f\x1f\x1f".encode())
    hasher.update(body)
    return f'"{hasher.hexdigest()}"'


# -- rules ---------------------------------------------------------------------------------


def test_rule_by_path(client):
    assert client.get("/rules/static/app.css")["Cache-Control"] == "public, max-age=31536000, immutable"


def test_rule_by_url_name_with_namespace(client):
    response = client.get("/rules/by-name/")
    assert response["Cache-Control"] == "private, no-cache"
    assert "Cookie" in response["Vary"]


def test_rule_by_view_path(client):
    assert client.get("/rules/by-view/")["Cache-Control"] == "no-store"


def test_first_matching_rule_wins(client, settings):
    settings.HTTPCACHE = {
        **settings.HTTPCACHE,
        "RULES": [{"path": r"^/rules/", "policy": "catalog"}, *settings.HTTPCACHE["RULES"]],
    }
    assert client.get("/rules/by-view/")["Cache-Control"] == CATALOG_HEADER


def test_default_policy(client, settings):
    assert "Cache-Control" not in client.get("/plain/")
    settings.HTTPCACHE = {**settings.HTTPCACHE, "DEFAULT_POLICY": "catalog"}
    assert client.get("/plain/")["Cache-Control"] == CATALOG_HEADER


def test_decorator_wins_over_rules(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RULES": [{"path": "^/catalog/", "policy": "user"}]}
    assert client.get("/catalog/")["Cache-Control"] == CATALOG_HEADER


def test_rule_applies_to_unresolved_404(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RULES": [{"path": "^/nowhere", "policy": "catalog"}]}
    response = client.get("/nowhere/")
    assert response.status_code == 404 and response["Cache-Control"] == CATALOG_HEADER


def test_bad_rule_at_runtime_is_skipped_not_500(client, settings, caplog):
    settings.HTTPCACHE = {
        **settings.HTTPCACHE,
        "RULES": [{"path": "([", "policy": "catalog"}, {"path": "^/plain/", "policy": "nope"}, "junk"],
    }
    assert client.get("/plain/").status_code == 200
    assert "RULES" in caplog.text


# -- body-hash ETag ------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/plain/", "/async-plain/"])
def test_body_hash_etag_and_304(client, calls, url):
    first = client.get(url)
    assert first["ETag"] == sha1_tag(b"hello")
    second = client.get(url, headers={"if-none-match": first["ETag"]})
    assert second.status_code == 304
    assert second.content == b""
    assert "Content-Length" not in second.headers and "Content-Type" not in second.headers
    for header in NOT_MODIFIED_HEADERS:
        if header != "Date":
            assert second.headers.get(header) == first.headers.get(header), header


@pytest.mark.parametrize("url", ["/plain/", "/async-plain/"])
async def test_body_hash_async_stack(async_client, url):
    first = await async_client.get(url)
    second = await async_client.get(url, headers={"if-none-match": first["ETag"]})
    assert second.status_code == 304


def test_r10_head_gets_the_body_hash_and_304(client):
    etag = client.get("/plain/")["ETag"]
    head = client.head("/plain/")
    assert head["ETag"] == etag
    assert client.head("/plain/", headers={"if-none-match": etag}).status_code == 304


def test_r14_changed_body_changes_the_tag(client, state):
    etag = client.get("/plain/")["ETag"]
    state["body"] = "hello!"
    response = client.get("/plain/", headers={"if-none-match": etag})
    assert response.status_code == 200 and response["ETag"] != etag


def test_body_hash_with_policy_304_keeps_cache_control(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "DEFAULT_POLICY": "catalog"}
    etag = client.get("/plain/")["ETag"]
    response = client.get("/plain/", headers={"if-none-match": etag})
    assert response.status_code == 304 and response["Cache-Control"] == CATALOG_HEADER


def test_no_body_hash_for_writes(client):
    assert "ETag" not in client.post("/plain/")


def test_no_body_hash_for_streaming(client):
    assert "ETag" not in client.get("/streaming/")


def test_no_body_hash_with_no_store(client, state):
    assert "ETag" not in client.get("/sensitive/")
    state["cache_control"] = "no-store"
    assert "ETag" not in client.get("/plain/")


@pytest.mark.parametrize("status", [201, 204])
def test_body_hash_for_other_2xx(client, state, status):
    state["status"] = status
    assert "ETag" in client.get("/plain/")


@pytest.mark.parametrize("status", [403, 404, 500])
def test_r01_no_body_hash_or_304_for_errors(client, state, status):
    state["status"] = status
    response = client.get("/plain/", headers={"if-none-match": "*"})
    assert response.status_code == status and "ETag" not in response


def test_view_etag_is_kept_and_evaluated(client):
    response = client.get("/view-etag/")
    assert response["ETag"] == '"from-view"'
    assert client.get("/view-etag/", headers={"if-none-match": '"from-view"'}).status_code == 304
    assert client.get("/view-etag/", headers={"if-match": '"other"'}).status_code == 412


def test_body_etag_switch(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "BODY_ETAG": False}
    assert "ETag" not in client.get("/plain/")


def test_body_etag_algorithm(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "BODY_ETAG_ALGORITHM": "sha256"}
    assert len(client.get("/plain/")["ETag"]) == 66


def test_invalid_algorithm_at_runtime_falls_back(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "BODY_ETAG_ALGORITHM": "rot13"}
    assert client.get("/plain/")["ETag"] == sha1_tag(b"hello")


# -- GZip (R14) ----------------------------------------------------------------------------


def test_r14_gzip_weakens_a_tag_computed_on_the_uncompressed_body(client, settings):
    settings.MIDDLEWARE = GZIP_FIRST
    identity = client.get("/big/")
    compressed = client.get("/big/", headers={"accept-encoding": "gzip"})
    assert compressed["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.content) == identity.content
    assert identity["ETag"] == sha1_tag(b"x" * 5000, "text/plain")
    assert compressed["ETag"] == "W/" + identity["ETag"]
    assert "Accept-Encoding" in compressed["Vary"]


def test_r11_gzip_304_repeats_the_compressed_200_headers(client, settings):
    settings.MIDDLEWARE = GZIP_FIRST
    first = client.get("/big/", headers={"accept-encoding": "gzip"})
    second = client.get("/big/", headers={"accept-encoding": "gzip", "if-none-match": first["ETag"]})
    assert second.status_code == 304
    assert second["ETag"] == first["ETag"]
    assert second["Vary"] == first["Vary"]
    identity = client.get("/big/", headers={"if-none-match": first["ETag"]})
    assert identity.status_code == 304  # weak comparison (R07)
    assert not identity["ETag"].startswith("W/")


def test_r11_gzip_304_for_a_body_gzip_leaves_alone(client, settings):
    settings.MIDDLEWARE = GZIP_FIRST
    first = client.get("/plain/", headers={"accept-encoding": "gzip"})  # 5 bytes: not compressed
    assert not first["ETag"].startswith("W/") and "Vary" not in first
    second = client.get("/plain/", headers={"accept-encoding": "gzip", "if-none-match": first["ETag"]})
    assert second.status_code == 304
    assert second["ETag"] == first["ETag"] and "Vary" not in second


def test_recent_last_modified_leaves_the_etag_to_the_body_hash(client, state):
    import datetime

    state["modified"] = datetime.datetime.now(datetime.timezone.utc)
    response = client.get("/modified-only/")
    assert "Last-Modified" not in response  # still settling
    assert response["ETag"] == sha1_tag(b"hello")  # so the middleware hashed the body


# -- cookies and credentials (R20, R21) ----------------------------------------------------


@pytest.mark.django_db
def test_r21_cookie_set_by_outer_middleware_is_seen(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "DEFAULT_POLICY": "catalog"}
    response = client.get("/touches-session/")
    assert "sessionid" in response.cookies
    assert response["Cache-Control"].startswith("private,")
    assert "s-maxage" not in response["Cache-Control"]


def test_r21_cookie_set_by_view_under_decorator(client, state):
    state["cookie"] = True
    response = client.get("/catalog/")
    assert response["Cache-Control"].startswith("private,")


def test_r20_view_set_public_header_downgraded_without_policy(client, state):
    state["cache_control"] = "public, max-age=300"
    response = client.get("/plain/", headers={"authorization": "Bearer t"})
    assert response["Cache-Control"] == "private, max-age=300"
    assert "Authorization" in response["Vary"]


def test_r21_logged_in_user_gets_private(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("bob", password="pw"))
    response = client.get("/catalog/")
    assert response["Cache-Control"] == "private, max-age=60, stale-while-revalidate=30, stale-if-error=86400"
    assert "Cookie" in response["Vary"]
    again = client.get("/catalog/", headers={"if-none-match": response["ETag"]})
    assert again.status_code == 304 and again["Cache-Control"] == response["Cache-Control"]


def test_r21_force_shared(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("carol", password="pw"))
    assert client.get("/shared-anyway/")["Cache-Control"] == "public, max-age=30"


def test_r19_policy_vary(client):
    assert client.get("/localized/")["Vary"] == "Accept-Language"
