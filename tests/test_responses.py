"""The response store (django_httpcache.responses): hits, misses, what is never stored,
one render per version, outages. R29's own rules: tests/conformance/test_r29_store.py."""

from __future__ import annotations

import gzip
import logging
import threading
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import connections
from django.test import Client

from django_httpcache import responses, trace
from django_httpcache.checks import store_problems
from tests import store_app
from tests.factories import ArticleFactory, TagFactory, UserFactory
from tests.testapp.api import SERIALIZED

pytestmark = pytest.mark.django_db


class BrokenCache(LocMemCache):
    """A store that is down (Redis unreachable)."""

    def _fail(self, *args, **kwargs):
        raise ConnectionError("store down")

    get = add = set = delete = get_many = _fail


@pytest.fixture(autouse=True)
def _store(settings):
    store_app.use_store(settings, broken={"BACKEND": "tests.test_responses.BrokenCache"})
    settings.HTTPCACHE = {
        **settings.HTTPCACHE,
        "POLICIES": {**settings.HTTPCACHE["POLICIES"], "stored": {"public": True, "max_age": 60, "store": True}},
        "RULES": [*settings.HTTPCACHE["RULES"], {"path": r"^/store/by-policy/", "policy": "stored"}],
    }
    caches["responses"].clear()
    yield
    caches["responses"].clear()


def twice(client, url, **headers):
    return client.get(url, headers=headers), client.get(url, headers=headers)


def test_a_hit_answers_without_rendering_with_the_same_headers(client):
    ArticleFactory(title="one")
    first, second = twice(client, "/store/list/")
    assert (first.status_code, second.status_code) == (200, 200)
    assert store_app.RENDERS["list"] == 1
    assert second.content == first.content
    for header in ("ETag", "Cache-Control", "Content-Type", "Last-Modified"):
        assert second.headers.get(header) == first.headers.get(header), header
    assert trace.of(first.wsgi_request).store == "stored"
    assert trace.of(second.wsgi_request).store == "hit"


def test_a_change_renders_again_and_the_old_body_is_gone(client, mode, django_capture_on_commit_callbacks):
    article = ArticleFactory(title="before")
    before, _ = twice(client, "/store/list/")
    article.title = "after"
    with django_capture_on_commit_callbacks(execute=True):
        article.save()
    after = client.get("/store/list/")
    assert b"after" in after.content and b"before" not in after.content
    assert after["ETag"] != before["ETag"]
    assert store_app.RENDERS["list"] == 2


def test_an_observed_dependency_changes_the_key(client, mode, django_capture_on_commit_callbacks):
    tag = TagFactory(name="red")
    ArticleFactory(title="one", featured=tag)
    twice(client, "/store/list/")
    tag.name = "blue"
    with django_capture_on_commit_callbacks(execute=True):
        tag.save()
    assert b"blue" in client.get("/store/list/").content


def test_a_detail_is_stored_per_object(client):
    a, b = ArticleFactory(title="alpha"), ArticleFactory(title="beta")
    twice(client, f"/store/detail/{a.pk}/")
    assert b"beta" in client.get(f"/store/detail/{b.pk}/").content
    assert b"alpha" in client.get(f"/store/detail/{a.pk}/").content
    assert store_app.RENDERS["detail"] == 2


def test_a_matching_if_none_match_is_still_a_304(client):
    first = client.get("/store/slow/")
    response = client.get("/store/slow/", headers={"if-none-match": first["ETag"]})
    assert response.status_code == 304
    assert trace.of(response.wsgi_request).store == ""


def test_head_is_served_from_the_store_but_does_not_fill_it(client):
    head = client.head("/store/slow/")
    assert head.status_code == 200 and trace.of(head.wsgi_request).store == "miss"
    client.get("/store/slow/")
    head = client.head("/store/slow/")
    assert head.status_code == 200 and head.content == b""
    assert trace.of(head.wsgi_request).store == "hit"
    assert store_app.RENDERS["slow"] == 2


async def test_an_async_view_is_served_from_the_store(async_client):
    await async_client.get("/store/async/")
    second = await async_client.get("/store/async/")
    assert second.status_code == 200 and store_app.RENDERS["async"] == 1
    assert trace.of(second.asgi_request).store == "hit"
    # What the view reads is looked up in the database from the executor's thread: close
    # that thread's connection, or PostgreSQL cannot drop the test database.
    await sync_to_async(connections.close_all)()


def test_gzip_compresses_a_stored_200_and_weakens_its_tag(client, settings):
    settings.MIDDLEWARE = ["django.middleware.gzip.GZipMiddleware", *settings.MIDDLEWARE]
    plain = client.get("/store/slow/")
    zipped = client.get("/store/slow/", headers={"accept-encoding": "gzip"})
    assert trace.of(zipped.wsgi_request).store == "hit"
    assert zipped["Content-Encoding"] == "gzip" and gzip.decompress(zipped.content) == plain.content
    assert zipped["ETag"] == "W/" + plain["ETag"]  # R14, as for a rendered 200
    assert "Accept-Encoding" in zipped["Vary"]
    again = client.get("/store/slow/")
    assert again.content == plain.content and again["ETag"] == plain["ETag"]
    assert client.get("/store/slow/", headers={"if-none-match": zipped["ETag"]}).status_code == 304


def test_a_view_set_cache_control_survives_a_hit(client):
    _, second = twice(client, "/store/own/")
    assert trace.of(second.wsgi_request).store == "hit"
    assert second["Cache-Control"] == "public, max-age=5"


def test_reads_of_an_untracked_model_are_not_stored(client):
    twice(client, "/store/untracked/")
    assert store_app.RENDERS["untracked"] == 2


def test_a_body_hash_view_cannot_use_the_store(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RULES": [{"path": "^/store/body-hash/", "policy": "stored"}]}
    first, second = twice(client, "/store/body-hash/")
    assert store_app.RENDERS["body_hash"] == 2 and first["ETag"] == second["ETag"]


def test_a_policy_opts_a_view_in(client):
    _, second = twice(client, "/store/by-policy/")
    assert store_app.RENDERS["by_policy"] == 1 and trace.of(second.wsgi_request).store == "hit"


def test_too_big_for_an_entry_is_not_stored(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_STORE": {"CACHE": "responses", "MAX_ENTRY_BYTES": 100}}
    twice(client, "/store/slow/")
    assert store_app.RENDERS["slow"] == 2


def test_entries_get_the_maximum_lifetime(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_STORE": {"CACHE": "responses", "TIMEOUT": 123}}
    with mock.patch.object(LocMemCache, "set", autospec=True) as stored:
        client.get("/store/slow/")
    (_, key, _, timeout), _ = stored.call_args
    assert key.startswith(responses.KEY_PREFIX) and timeout == 123


# -- DRF -------------------------------------------------------------------------------------


def test_drf_list_and_detail_skip_the_serializer_on_a_hit(client):
    article = ArticleFactory(title="one")
    for url in ("/store/articles/", f"/store/articles/{article.pk}/"):
        SERIALIZED.clear()
        first, second = twice(client, url)
        assert SERIALIZED["article"] == 1, url
        assert second.content == first.content and second["ETag"] == first["ETag"]
        assert second["Content-Type"] == first["Content-Type"] and second["Vary"] == first["Vary"]
        assert trace.of(second.wsgi_request).store == "hit"


def test_drf_stores_each_media_type_apart(client):
    ArticleFactory(title="one")
    client.get("/store/articles/")
    api = client.get("/store/articles/", headers={"accept": "text/html"})
    assert api["Content-Type"].startswith("text/html")
    assert client.get("/store/articles/")["Content-Type"] == "application/json"


def test_drf_a_change_is_never_served_stale(client, mode, django_capture_on_commit_callbacks):
    article = ArticleFactory(title="before")
    twice(client, f"/store/articles/{article.pk}/")
    article.title = "after"
    with django_capture_on_commit_callbacks(execute=True):
        article.save()
    assert client.get(f"/store/articles/{article.pk}/").json()["title"] == "after"


# -- private entries ---------------------------------------------------------------------------


def test_signed_in_requests_bypass_the_store_by_default(client):
    ArticleFactory()
    client.force_login(UserFactory())
    first, _ = twice(client, "/store/articles/")
    assert SERIALIZED["article"] == 2 and trace.of(first.wsgi_request).store == "bypass"


def test_private_entries_are_per_user_when_opted_in(settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_STORE": {"CACHE": "responses", "PRIVATE": True}}
    ArticleFactory()
    alice, bob = Client(), Client()
    alice.force_login(UserFactory(username="alice"))
    bob.force_login(UserFactory(username="bob"))
    twice(alice, "/store/private-articles/")
    assert SERIALIZED["article"] == 1
    response = bob.get("/store/private-articles/")
    assert trace.of(response.wsgi_request).store == "stored" and SERIALIZED["article"] == 2
    assert response["Cache-Control"].startswith("private")


# -- one render per version ----------------------------------------------------------------------


def test_concurrent_misses_wait_for_one_render(client):
    client.get("/store/slow/")  # seen: from now on misses look up and lock
    store_app.STATE.update(version=2, delay=0.3)
    store_app.RENDERS.clear()
    results: list[bytes] = []

    def fetch() -> None:
        try:
            results.append(Client().get("/store/slow/").content)
        finally:
            connections.close_all()  # this thread's own connections

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store_app.RENDERS["slow"] == 1
    assert len(results) == 8 and len(set(results)) == 1 and b"version 2" in results[0]


def test_an_entry_stored_just_before_the_lock_is_taken_is_served(client):
    """A miss, then another render stores the entry and releases its lock, then this
    request takes the lock: it serves that entry instead of rendering the version again."""
    client.get("/store/slow/")  # seen
    store_app.STATE["version"] = 2
    client.get("/store/slow/")  # renders and stores version 2
    renders = store_app.RENDERS["slow"]
    real_get = LocMemCache.get
    misses = iter([True])  # the first entry read misses, as it did before the other render stored

    def get(self, key, default=None, version=None):
        if key.startswith(responses.KEY_PREFIX) and next(misses, False):
            return default
        return real_get(self, key, default, version)

    with mock.patch.object(LocMemCache, "get", get):
        response = client.get("/store/slow/")
    assert b"version 2" in response.content and store_app.RENDERS["slow"] == renders
    assert trace.of(response.wsgi_request).store == "hit"


def test_a_lock_never_released_expires(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_STORE": {"CACHE": "responses", "LOCK_TIMEOUT": 0.2}}
    client.get("/store/slow/")
    store_app.STATE["version"] = 2
    # A worker that took the lock and died: its lock is left behind.
    with mock.patch.object(LocMemCache, "delete"), mock.patch.object(responses, "_storable", return_value=False):
        client.get("/store/slow/")
    response = client.get("/store/slow/")
    assert response.status_code == 200 and b"version 2" in response.content
    assert store_app.RENDERS["slow"] == 3


# -- outages -----------------------------------------------------------------------------------


def test_a_store_outage_renders_and_is_logged_once(client, settings, caplog):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_STORE": {"CACHE": "broken"}}
    client.get("/store/slow/")
    with caplog.at_level(logging.WARNING, logger="django_httpcache"):
        answers = [client.get("/store/slow/") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200] and store_app.RENDERS["slow"] == 4
    assert {trace.of(a.wsgi_request).store for a in answers} == {"miss"}  # never "stored"
    assert len([r for r in caplog.records if "RESPONSE_STORE" in r.getMessage()]) <= 1
    responses._outage.clear()


def test_an_unknown_cache_alias_renders(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_STORE": {"CACHE": "nowhere"}}
    assert [client.get("/store/slow/").status_code for _ in range(2)] == [200, 200]
    responses._outage.clear()


# -- checks ------------------------------------------------------------------------------------


def ids(problems):
    return sorted(p.id for p in problems)


def test_checks_name_bad_keys_and_unknown_aliases(settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_STORE": {"CACHE": "nowhere", "TIMEOUT": -1, "SIZE": 3}}
    problems = store_problems()
    assert ids(problems) == ["httpcache.E045", "httpcache.E045", "httpcache.E046"]
    assert any("['TIMEOUT']" in p.msg for p in problems) and any("'SIZE'" in p.msg for p in problems)


def test_checks_warn_about_store_policies_that_never_store(settings):
    settings.HTTPCACHE = {
        **settings.HTTPCACHE,
        "POLICIES": {"mine": {"private": True, "store": True}, "gone": {"no_store": True, "store": True}},
    }
    assert ids(store_problems()) == ["httpcache.W046", "httpcache.W046"]
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "httpcache" not in m]
    assert ids(store_problems()).count("httpcache.W045") == 2


# -- the example project -------------------------------------------------------------------------


def test_the_example_catalog_serves_list_and_detail_from_the_store(client, settings):
    import io

    from django.core.management import call_command

    from example_project import settings as example

    settings.ROOT_URLCONF, settings.TOOLBAR = "example_project.urls", False
    settings.HTTPCACHE = example.HTTPCACHE
    assert example.HTTPCACHE["POLICIES"]["catalog"]["store"] is example.RESPONSE_STORE is True
    call_command("seed_demo", products=3, stdout=io.StringIO())
    pk = __import__("catalog.models").models.Product.objects.order_by("pk").first().pk
    for url in ("/api/products/", f"/api/products/{pk}/", "/products/", f"/products/{pk}/"):
        first, second = twice(client, url)
        assert trace.of(second.wsgi_request).store == "hit", url
        assert second.content == first.content and second["ETag"] == first["ETag"], url


def test_cache_status_of_a_hit_is_not_the_stored_miss(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_HEADERS": True}
    first, second = twice(client, "/store/slow/")
    assert first["Cache-Status"] == "django-httpcache; fwd=miss; stored"
    assert second["Cache-Status"] == "django-httpcache; hit"
    assert second["Server-Timing"].count("httpcache;") == 1
