"""cache_policy and conditional on sync/async function views and CBV methods."""

from __future__ import annotations

import logging

import pytest
from django.utils.http import http_date

from django_httpcache.preconditions import NOT_MODIFIED_HEADERS

CATALOG_HEADER = "public, max-age=60, s-maxage=600, stale-while-revalidate=30, stale-if-error=86400"

SYNC_AND_ASYNC = ["/cond/", "/async-cond/", "/async-cond-sync-callables/", "/cbv/1/", "/cond-outer/"]


def view_name(url: str) -> str:
    return {
        "/cond/": "cond",
        "/async-cond/": "async_cond",
        "/async-cond-sync-callables/": "async_cond_sync_callables",
        "/cbv/1/": "ProductView.get",
        "/async-cbv/1/": "AsyncProductView.get",
        "/cond-outer/": "cond_outer",
    }[url]


# -- cache_policy ---------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/catalog/", "/async-catalog/"])
def test_named_policy(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == CATALOG_HEADER


@pytest.mark.parametrize("url", ["/catalog/", "/async-catalog/"])
async def test_named_policy_async_client(async_client, url):
    response = await async_client.get(url)
    assert response["Cache-Control"] == CATALOG_HEADER


def test_inline_policy(client):
    assert client.get("/inline/")["Cache-Control"] == "public, max-age=120"


def test_inline_policy_is_validated_at_decoration():
    from django.core.exceptions import ImproperlyConfigured

    from django_httpcache import cache_policy

    with pytest.raises(ImproperlyConfigured, match="max_age"):

        @cache_policy(public=True, max_age=-1)
        def view(request):  # pragma: no cover
            raise AssertionError

    with pytest.raises(TypeError):
        cache_policy("catalog", max_age=5)
    with pytest.raises(TypeError):
        cache_policy()


def test_unknown_policy_fails_safe_and_names_the_view(client, caplog):
    with caplog.at_level(logging.ERROR, logger="django_httpcache"):
        response = client.get("/unknown-policy/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "no-such-policy" in caplog.text and "unknown_policy" in caplog.text


def test_override_settings_is_read_at_use_time(client, settings):
    settings.HTTPCACHE = {"POLICIES": {"catalog": "public, max-age=7"}}
    assert client.get("/catalog/")["Cache-Control"] == "public, max-age=7"


# -- conditional: GET/HEAD -------------------------------------------------------------------


@pytest.mark.parametrize("url", SYNC_AND_ASYNC)
def test_200_carries_validators(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["ETag"].startswith('"') and len(response["ETag"]) == 34
    assert response["Last-Modified"] == "Tue, 02 Jan 2024 03:04:05 GMT"
    assert response["Cache-Control"] == CATALOG_HEADER


@pytest.mark.parametrize("url", SYNC_AND_ASYNC)
@pytest.mark.parametrize("method", ["get", "head"])
def test_r11_r12_304_repeats_the_200_headers(client, calls, url, method):
    first = getattr(client, method)(url)
    etag = first["ETag"]
    ran = calls[view_name(url)]
    second = getattr(client, method)(url, headers={"if-none-match": etag})
    assert second.status_code == 304
    assert calls[view_name(url)] == ran  # the view body did not run
    for header in NOT_MODIFIED_HEADERS:
        if header != "Date":
            assert second.headers.get(header) == first.headers.get(header), header
    assert second.content == b""
    assert "Content-Type" not in second.headers
    assert "Content-Length" not in second.headers


@pytest.mark.parametrize("url", ["/async-cond/", "/async-cbv/1/"])
async def test_async_views_with_async_client(async_client, calls, url):
    first = await async_client.get(url)
    assert first.status_code == 200
    second = await async_client.get(url, headers={"if-none-match": first["ETag"]})
    assert second.status_code == 304
    assert calls[view_name(url)] == 1


def test_r09_if_modified_since(client, calls):
    first = client.get("/modified-only/")
    response = client.get("/modified-only/", headers={"if-modified-since": first["Last-Modified"]})
    assert response.status_code == 304
    assert calls["modified_only"] == 1
    earlier = http_date(1704164645 - 1)
    assert client.get("/modified-only/", headers={"if-modified-since": earlier}).status_code == 200


def test_r10_head_gets_validators_and_304(client, calls):
    head = client.head("/cond/")
    assert head.status_code == 200 and head["ETag"] == client.get("/cond/")["ETag"]
    assert client.head("/cond/", headers={"if-none-match": head["ETag"]}).status_code == 304


def test_changed_version_gives_200(client, state):
    etag = client.get("/cond/")["ETag"]
    state["version"] = 2
    response = client.get("/cond/", headers={"if-none-match": etag})
    assert response.status_code == 200 and response["ETag"] != etag


def test_r07_weak_form_of_the_tag_matches(client):
    etag = client.get("/cond/")["ETag"]
    assert client.get("/cond/", headers={"if-none-match": "W/" + etag}).status_code == 304


def test_r13_tags_are_clean(client):
    etag = client.get("/cond/")["ETag"]
    inner = etag[1:-1]
    assert inner.isalnum() and inner.islower()


def test_url_arguments_reach_the_callables(client):
    assert client.get("/cond/1/")["ETag"] != client.get("/cond/")["ETag"]  # path is in the variant


def test_sync_view_async_callable(client, calls):
    etag = client.get("/sync-cond-async-callable/")["ETag"]
    assert client.get("/sync-cond-async-callable/", headers={"if-none-match": etag}).status_code == 304
    assert calls["sync_cond_async_callable"] == 1


# -- R01: errors stay errors ---------------------------------------------------------------


def test_r01_missing_resource_is_404_not_304(client, state):
    etag = client.get("/cond/")["ETag"]
    state["exists"] = False
    assert client.get("/cond/", headers={"if-none-match": etag}).status_code == 404
    assert client.get("/cond/", headers={"if-none-match": "*"}).status_code == 404


@pytest.mark.parametrize("url", ["/guarded/", "/guarded-in-callable/"])
def test_r01_forbidden_stays_403(client, state, calls, url):
    etag = client.get(url)["ETag"]
    state["allowed"] = False
    response = client.get(url, headers={"if-none-match": etag})
    assert response.status_code == 403
    assert "max-age" not in response.headers.get("Cache-Control", "")  # R23


# -- conditional: writes --------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/cond/", "/async-cond/", "/cbv/1/"])
def test_r05_stale_if_match_is_412_and_nothing_runs(client, calls, state, url):
    response = client.put(url, headers={"if-match": '"stale"'})
    assert response.status_code == 412
    assert state["version"] == 1
    assert not any(name.endswith("put") or name == view_name(url) for name in calls)


@pytest.mark.parametrize("url", ["/cond/", "/async-cond/"])
def test_r16_write_answered_by_a_status_message_carries_no_validators(client, state, url):
    # RFC 9110 §9.3.4: "updated" is not the stored representation, so no validator.
    etag = client.get(url)["ETag"]
    response = client.put(url, headers={"if-match": etag})
    assert response.status_code == 200 and response.content == b"updated"
    assert state["version"] == 2
    assert "ETag" not in response and "Last-Modified" not in response
    # A client without a tag fetches one: the GET's tag chains into the next write.
    new = client.get(url)["ETag"]
    assert new != etag
    assert client.patch(url, headers={"if-match": new}).status_code == 200
    assert client.patch(url, headers={"if-match": new}).status_code == 412


def test_r16_write_that_returns_the_representation_carries_the_new_etag(client, state):
    url = "/cond-representation/"
    etag = client.get(url)["ETag"]
    response = client.put(url, headers={"if-match": etag})
    assert response.status_code == 200
    assert response["Content-Location"] == url  # §8.7: the body is the target's state
    new = response["ETag"]
    assert new != etag and new == client.get(url)["ETag"]
    assert client.patch(url, headers={"if-match": new}).status_code == 200
    assert client.patch(url, headers={"if-match": new}).status_code == 412


def test_r06_if_unmodified_since_on_write(client, state):
    lm = client.get("/cond/")["Last-Modified"]
    assert client.put("/cond/", headers={"if-unmodified-since": lm}).status_code == 200
    assert client.put("/cond/", headers={"if-unmodified-since": lm}).status_code == 412


def test_r06_if_unmodified_since_ignored_without_last_modified(client, state):
    old = http_date(0)
    assert client.put("/etag-only/", headers={"if-unmodified-since": old}).status_code == 200


def test_r08_if_none_match_on_write(client, state):
    etag = client.get("/cond/")["ETag"]
    assert client.put("/cond/", headers={"if-none-match": etag}).status_code == 412
    assert client.put("/cond/", headers={"if-none-match": "*"}).status_code == 412
    state["exists"] = False
    assert client.put("/cond/", headers={"if-none-match": "*"}).status_code == 200  # create


def test_r04_if_match_star_on_missing_resource(client, state):
    state["exists"] = False
    assert client.put("/cond/", headers={"if-match": "*"}).status_code == 412


def test_r17_require_if_match(client, calls, state):
    response = client.put("/require-if-match/")
    assert response.status_code == 428
    assert b"If-Match" in response.content
    assert calls["require_if_match"] == 0
    etag = client.get("/require-if-match/")["ETag"]
    assert client.put("/require-if-match/", headers={"if-match": etag}).status_code == 200


def test_r17_require_if_match_from_settings(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "REQUIRE_IF_MATCH": True}
    assert client.delete("/cond/").status_code == 428
    assert client.post("/cond/").status_code == 200  # POST creates: no If-Match to require


def test_412_to_a_write_gets_no_policy(client):
    response = client.put("/cond/", headers={"if-match": '"stale"'})
    assert response.status_code == 412 and "Cache-Control" not in response


def test_r23_412_to_a_get_gets_no_freshness(client):
    response = client.get("/cond/", headers={"if-match": '"stale"'})
    assert response.status_code == 412 and response["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_policies_are_for_get_and_head(client, method):
    response = getattr(client, method)("/catalog/")
    assert "Cache-Control" not in response


# -- policy on short responses -----------------------------------------------------------


def test_304_from_outer_conditional_gets_inner_policy(client):
    etag = client.get("/cond-outer/")["ETag"]
    response = client.get("/cond-outer/", headers={"if-none-match": etag})
    assert response.status_code == 304 and response["Cache-Control"] == CATALOG_HEADER


def test_private_policy_304_headers(client, django_user_model):
    user = django_user_model.objects.create_user("alice", password="pw")
    client.force_login(user)
    first = client.get("/private-cond/")
    assert first["Cache-Control"] == "private, no-cache"
    second = client.get("/private-cond/", headers={"if-none-match": first["ETag"]})
    assert second.status_code == 304
    assert second["Cache-Control"] == first["Cache-Control"]
    assert second["Vary"] == first["Vary"]
