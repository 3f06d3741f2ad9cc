"""R30: Cache-Status (RFC 9211) names the cache and reports hit or fwd truthfully;
Server-Timing carries no user data."""

from __future__ import annotations

import re

import pytest
from django.core.cache import caches

from tests import store_app
from tests.conformance.conftest import surfaces
from tests.factories import ArticleFactory

SECRET = "s3cret-value-of-the-user"
# Our member: a fixed vocabulary in desc, a duration in milliseconds.
SERVER_TIMING = re.compile(r'httpcache;desc="[0-9]{3}( [a-z-]+)*( [a-z]+( hash)?)?"(;dur=[0-9]+\.[0-9]{2})?')


@pytest.fixture
def headers_on(settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_HEADERS": True}


@surfaces()
def test_r30_server_timing_carries_no_user_data(surface, http, headers_on):
    first = http(surface)
    tag = first.get("ETag", '"x"')
    replies = [
        first,
        http(surface, if_none_match=tag),
        http(surface, if_none_match=f'"{SECRET}"', authorization=f"Bearer {SECRET}", cookie=f"sessionid={SECRET}"),
    ]
    for reply in replies:
        value = reply["Server-Timing"]
        assert SECRET not in value and surface.url not in value
        assert SERVER_TIMING.fullmatch(value), value
    assert '"304 etag' in replies[1]["Server-Timing"] or replies[1].status_code != 304


@pytest.fixture
def response_store(settings, db):
    settings.CACHES = {
        **settings.CACHES,
        "responses": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "r30"},
    }
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_STORE": {"CACHE": "responses"}, "RESPONSE_HEADERS": True}
    store_app.RENDERS.clear()
    caches["responses"].clear()
    yield
    caches["responses"].clear()


def test_r30_cache_status_is_hit_only_when_the_body_came_from_the_store(client, response_store):
    ArticleFactory(title="one")
    first = client.get("/store/list/")
    assert store_app.RENDERS["list"] == 1
    assert first["Cache-Status"] == "django-httpcache; fwd=miss; stored"
    second = client.get("/store/list/")
    assert store_app.RENDERS["list"] == 1  # not rendered: a hit
    assert second["Cache-Status"] == "django-httpcache; hit"
    assert second["Server-Timing"].startswith('httpcache;desc="200 stored')
    ArticleFactory(title="two")
    third = client.get("/store/list/")
    assert store_app.RENDERS["list"] == 2  # rendered again: forwarded, never "hit"
    assert third["Cache-Status"].startswith("django-httpcache; fwd=")


def test_r30_a_replayed_response_reports_this_answer_only(client, response_store):
    ArticleFactory(title="one")
    client.get("/store/list/")
    client.get("/store/list/")
    replayed = client.get("/store/list/")
    # One member of ours in each header, though the stored response had its own.
    assert replayed["Cache-Status"].count("django-httpcache") == 1
    assert replayed["Server-Timing"].count("httpcache;") == 1


def test_r30_no_cache_status_where_no_cache_answered(client, headers_on, db):
    assert "Cache-Status" not in client.get("/cond/")
