"""R29: a stored response is served only under the validator it was stored with, for the
same variant; responses that set cookies, stream, or are private (unless opted in per
user) are never stored. On the decorator and on DRF (docs/response-store.md)."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from django_httpcache import trace
from tests import store_app
from tests.factories import ArticleFactory, UserFactory
from tests.testapp.api import SERIALIZED

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _store(settings):
    store_app.use_store(settings)


# surface -> (list URL, how many renders so far)
SURFACES = {
    "decorator": ("/store/list/", lambda: store_app.RENDERS["list"]),
    "drf": ("/store/articles/", lambda: SERIALIZED["article"]),
}


def store_of(response):
    return trace.of(response.wsgi_request).store


@pytest.mark.parametrize("surface", SURFACES)
def test_r29_served_only_under_the_validator_it_was_stored_with(
    client, surface, mode, django_capture_on_commit_callbacks
):
    url, renders = SURFACES[surface]
    article = ArticleFactory(title="old")
    first = client.get(url)
    assert store_of(client.get(url)) == "hit" and renders() == 1
    article.title = "new"
    with django_capture_on_commit_callbacks(execute=True):
        article.save()
    after = client.get(url)
    assert store_of(after) == "stored" and renders() == 2
    assert after["ETag"] != first["ETag"] and b"new" in after.content and b"old" not in after.content
    again = client.get(url)
    assert store_of(again) == "hit" and again.content == after.content and again["ETag"] == after["ETag"]


@pytest.mark.parametrize("surface", SURFACES)
def test_r29_served_only_for_the_same_variant(client, surface):
    url, renders = SURFACES[surface]
    ArticleFactory(title="one")
    ArticleFactory(title="two")
    whole = client.get(url)
    rendered = renders()
    filtered = client.get(url + "?page_size=1" if surface == "drf" else url + "?x=1")
    assert store_of(filtered) == "stored" and renders() > rendered
    assert filtered["ETag"] != whole["ETag"]
    if surface == "drf":
        assert filtered.json()["results"] != whole.json()["results"]


@pytest.mark.parametrize("path", ["cookie/", "session/"])
def test_r29_decorator_responses_setting_cookies_are_never_stored(client, path):
    for _ in range(3):
        response = client.get("/store/" + path)
        # A session cookie makes the next requests credentialed: those bypass the store.
        assert response.cookies and store_of(response) in ("miss", "bypass")
    assert sum(store_app.RENDERS.values()) == 3


def test_r29_decorator_streaming_responses_are_never_stored(client):
    for _ in range(2):
        response = client.get("/store/streaming/")
        assert response.streaming and b"".join(response.streaming_content).startswith(b"a")
    assert store_app.RENDERS["streaming"] == 2


@pytest.mark.parametrize("surface", ["decorator", "drf"])
def test_r29_private_responses_are_never_stored_by_default(client, surface):
    ArticleFactory()
    url = "/store/list/" if surface == "decorator" else "/store/private-articles/"
    client.force_login(UserFactory())
    for _ in range(2):
        assert store_of(client.get(url)) == "bypass"
    assert caches["responses"]._cache == {}  # type: ignore[attr-defined]


def test_r29_drf_private_entries_are_per_user_when_opted_in(settings, client):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_STORE": {"CACHE": "responses", "PRIVATE": True}}
    ArticleFactory()
    client.force_login(UserFactory(username="alice"))
    assert store_of(client.get("/store/private-articles/")) == "stored"
    assert store_of(client.get("/store/private-articles/")) == "hit"
    client.force_login(UserFactory(username="bob"))
    assert store_of(client.get("/store/private-articles/")) == "stored"
    client.logout()
    anonymous = client.get("/store/private-articles/")  # a private policy: anonymous is a user too
    assert store_of(anonymous) == "bypass"
