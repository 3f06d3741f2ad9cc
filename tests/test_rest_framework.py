"""DRF mixins: 304 after permissions and before serialization, 412/428 on writes, R24."""

from __future__ import annotations

import base64
import datetime

import pytest
from django.db import transaction
from django.test import override_settings
from rest_framework.authtoken.models import Token

from django_httpcache import versions
from tests.factories import ArticleFactory, TagFactory, UserFactory
from tests.testapp import api
from tests.testapp.models import Article, Tag

pytestmark = pytest.mark.django_db

CATALOG_HEADER = "public, max-age=60, s-maxage=600, stale-while-revalidate=30, stale-if-error=86400"
JSON = {"accept": "application/json"}
PAST = datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc)


@pytest.fixture(autouse=True)
def _reset_spy():
    api.SERIALIZED.clear()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """A block whose on_commit callbacks run, as after a real commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def articles():
    tags = [TagFactory(name="red"), TagFactory(name="blue")]
    made = [ArticleFactory(tags=[tags[i % 2]]) for i in range(5)]
    return made


def get(client, url, etag=None, **headers):
    if etag is not None:
        headers["if-none-match"] = etag
    return client.get(url, headers={**JSON, **headers})


def basic(user: str = "writer") -> dict[str, str]:
    UserFactory(username=user)
    return {"authorization": "Basic " + base64.b64encode(f"{user}:pw".encode()).decode()}


# -- GET: 304 before serialization, exact query counts ---------------------------------------


def test_list_200_has_validators_and_policy(client, mode, articles):
    response = get(client, "/api/articles/")
    assert response.status_code == 200
    assert response["ETag"].startswith('"')
    assert response["Cache-Control"] == CATALOG_HEADER
    assert "Accept" in response["Vary"]
    assert api.SERIALIZED["article"] == 2  # one page


def test_list_304_aggregate_is_one_query(client, settings, articles, django_assert_num_queries):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_MODE": "aggregate"}
    etag = get(client, "/api/articles/")["ETag"]
    api.SERIALIZED.clear()
    with django_assert_num_queries(1):
        response = get(client, "/api/articles/", etag)
    assert response.status_code == 304
    assert api.SERIALIZED["article"] == 0


def test_list_304_aggregate_compiles_nothing(client, settings, articles, monkeypatch):
    """The statement's SQL is reused: a later 304 runs it without compiling any query
    (versions/shapes.py for the collection, the per-model columns built once)."""
    from django.db.models.sql.compiler import SQLCompiler

    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_MODE": "aggregate"}
    etag = get(client, "/api/articles/?tag=a")["ETag"]
    get(client, "/api/articles/?tag=a", etag)
    compiled = []
    original = SQLCompiler.as_sql
    monkeypatch.setattr(SQLCompiler, "as_sql", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k))
    assert get(client, "/api/articles/?tag=a", etag).status_code == 304
    assert compiled == []
    assert get(client, "/api/articles/?tag=b").status_code == 200  # another filter value: compiled
    assert compiled


@pytest.mark.parametrize("mode", ["counter"], indirect=True)
def test_list_304_counter_is_zero_queries(client, mode, articles, django_assert_num_queries):
    etag = get(client, "/api/articles/")["ETag"]
    api.SERIALIZED.clear()
    with django_assert_num_queries(0):
        response = get(client, "/api/articles/", etag)
    assert response.status_code == 304
    assert api.SERIALIZED["article"] == 0


def test_detail_304_is_one_query(client, mode, articles, django_assert_num_queries, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE}
    url = f"/api/article-detail/{articles[0].pk}/"
    api.ArticleDetail.etag_dependencies = []
    try:
        etag = get(client, url)["ETag"]
        # The row; and in aggregate mode one statement for the versions of Tag, which
        # the serializer was observed to read (the tag names).
        with django_assert_num_queries(1 if mode == "counter" else 2):
            response = get(client, url, etag)
    finally:
        api.ArticleDetail.etag_dependencies = [Tag]
    assert response.status_code == 304
    assert api.SERIALIZED["article"] == 1  # only the first 200


def test_serializer_is_not_called_on_304(client, mode, articles, monkeypatch):
    etag = get(client, f"/api/articles/{articles[0].pk}/")["ETag"]

    def boom(*args, **kwargs):
        raise AssertionError("get_serializer() called for a 304")

    monkeypatch.setattr(api.ArticleViewSet, "get_serializer", boom)
    assert get(client, f"/api/articles/{articles[0].pk}/", etag).status_code == 304
    list_etag = get(client, "/api/article-list/")
    assert list_etag.status_code == 200
    monkeypatch.setattr(api.ArticleList, "get_serializer", boom)
    assert get(client, "/api/article-list/", list_etag["ETag"]).status_code == 304


@pytest.mark.parametrize("url", ["/api/articles/", "/api/article-list/"])
def test_r11_r12_304_headers_equal_200(client, mode, articles, url):
    first = get(client, url)
    second = get(client, url, first["ETag"])
    assert second.status_code == 304 and second.content == b""
    for header in ("Cache-Control", "ETag", "Vary", "Last-Modified"):
        assert second.headers.get(header) == first.headers.get(header), header
    assert "Content-Type" not in second and "Content-Length" not in second


def test_r10_head(client, mode, articles):
    etag = get(client, "/api/articles/")["ETag"]
    head = client.head("/api/articles/", headers=JSON)
    assert head.status_code == 200 and head["ETag"] == etag
    assert client.head("/api/articles/", headers={**JSON, "if-none-match": etag}).status_code == 304


def settle_everything():
    """Move every version source into the past, as if nothing changed for a while."""
    from django.conf import settings
    from django.core.cache import caches

    from django_httpcache.models import ModelStamp

    Article._base_manager.update(updated_at=PAST)
    ModelStamp.objects.update(changed_at=PAST)
    if settings.HTTPCACHE.get("VERSION_MODE") == "counter":
        old = f"{int(PAST.timestamp() * 1e9):x}-settled"
        for label in ("testapp.article", "testapp.tag"):
            caches["versions"].set(versions.CounterStore.prefix + label, old, None)


def test_last_modified_and_if_modified_since(client, mode, articles):
    settle_everything()
    url = f"/api/articles/{articles[0].pk}/"
    response = get(client, url)
    assert response["Last-Modified"] == "Sun, 01 Jun 2025 00:00:00 GMT"
    again = client.get(url, headers={**JSON, "if-modified-since": response["Last-Modified"]})
    assert again.status_code == 304


def test_recent_change_has_no_last_modified(client, articles):
    response = get(client, f"/api/articles/{articles[0].pk}/")
    assert "Last-Modified" not in response  # inside LAST_MODIFIED_SETTLE


# -- R01: permissions and existence first -----------------------------------------------


def test_r01_object_permission_denial_stays_403(client, mode, articles):
    article = articles[0]
    etag = get(client, f"/api/articles/{article.pk}/")["ETag"]
    Article._base_manager.filter(pk=article.pk).update(title="secret")  # no version change
    response = get(client, f"/api/articles/{article.pk}/", etag)
    assert response.status_code == 403
    assert "max-age" not in response["Cache-Control"]


def test_r01_missing_object_stays_404(client, mode):
    assert get(client, "/api/articles/999/", "*").status_code == 404


def test_r01_authentication_failure_stays_401(client, articles):
    etag = get(client, "/api/profile/", **basic("alice"))["ETag"]
    response = get(client, "/api/profile/", etag)
    # AUTH starts with SessionAuthentication, which gives no WWW-Authenticate challenge,
    # so DRF turns NotAuthenticated into 403 (a 401 needs the challenge).
    assert response.status_code == 403


def test_r01_invalid_page_stays_404(client, mode, articles):
    assert get(client, "/api/articles/?page=99", "*").status_code == 404


# -- writes: 412 / 428 / new ETag ---------------------------------------------------------


def test_r05_stale_if_match_is_412_without_writing(client, mode, articles):
    article = articles[0]
    response = client.patch(
        f"/api/articles/{article.pk}/",
        {"title": "changed"},
        content_type="application/json",
        headers={**JSON, "if-match": '"stale"'},
    )
    assert response.status_code == 412
    assert response.json() == {"detail": "Precondition failed: the resource has changed since you last fetched it."}
    assert Article.objects.get(pk=article.pk).title == article.title


@pytest.mark.django_db(transaction=True)  # real commits: counter tokens move at commit
@pytest.mark.parametrize("method", ["put", "patch"])
def test_r16_write_returns_the_new_etag(client, mode, articles, method):
    article = articles[0]
    url = f"/api/articles/{article.pk}/"
    etag = get(client, url)["ETag"]
    data = {"title": "changed", "body": "b", "tags": ["red"]}
    response = getattr(client, method)(url, data, content_type="application/json", headers={**JSON, "if-match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response["ETag"] == get(client, url)["ETag"]
    # the old tag no longer works, the new one chains
    stale = client.patch(url, {"body": "x"}, content_type="application/json", headers={**JSON, "if-match": etag})
    assert stale.status_code == 412
    chained = client.patch(
        url, {"body": "x"}, content_type="application/json", headers={**JSON, "if-match": response["ETag"]}
    )
    assert chained.status_code == 200


def test_r17_require_if_match_is_428(client, articles):
    url = f"/api/strict-articles/{articles[0].pk}/"
    response = client.patch(url, {"title": "x"}, content_type="application/json", headers=JSON)
    assert response.status_code == 428
    assert response.json()["detail"].startswith("This request must be conditional")
    assert client.delete(url, headers=JSON).status_code == 428
    etag = get(client, url)["ETag"]
    assert client.delete(url, headers={**JSON, "if-match": etag}).status_code == 204


def test_r17_require_if_match_from_settings(client, settings, articles):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "REQUIRE_IF_MATCH": True}
    url = f"/api/articles/{articles[0].pk}/"
    assert client.delete(url, headers=JSON).status_code == 428


def test_r08_put_if_none_match_star_on_existing_is_412(client, articles):
    url = f"/api/articles/{articles[0].pk}/"
    response = client.put(url, {"title": "x"}, content_type="application/json", headers={**JSON, "if-none-match": "*"})
    assert response.status_code == 412


def test_r06_if_unmodified_since_on_write(client, articles):
    settle_everything()
    url = f"/api/articles/{articles[0].pk}/"
    old = "Sat, 31 May 2025 00:00:00 GMT"
    assert (
        client.patch(
            url, {"body": "x"}, content_type="application/json", headers={"if-unmodified-since": old}
        ).status_code
        == 412
    )
    now = "Sun, 01 Jun 2025 00:00:00 GMT"
    assert (
        client.patch(
            url, {"body": "x"}, content_type="application/json", headers={"if-unmodified-since": now}
        ).status_code
        == 200
    )
    # the write moved updated_at: the same date is now too old, though no Last-Modified is sent yet
    assert (
        client.patch(
            url, {"body": "y"}, content_type="application/json", headers={"if-unmodified-since": now}
        ).status_code
        == 412
    )


def test_r01_write_to_missing_object_is_404_not_412(client):
    response = client.patch("/api/articles/999/", {}, content_type="application/json", headers={"if-match": '"x"'})
    assert response.status_code == 404


def test_r01_write_object_permission_before_412(client, articles):
    Article._base_manager.filter(pk=articles[0].pk).update(title="secret")
    response = client.patch(
        f"/api/articles/{articles[0].pk}/", {}, content_type="application/json", headers={"if-match": '"x"'}
    )
    assert response.status_code == 403


def test_412_to_a_write_gets_no_policy(client, articles):
    response = client.delete(f"/api/articles/{articles[0].pk}/", headers={"if-match": '"x"'})
    assert response.status_code == 412 and "Cache-Control" not in response


def test_r23_412_to_a_get_gets_no_freshness(client, articles):
    response = get(client, f"/api/articles/{articles[0].pk}/", **{"if-match": '"x"'})
    assert response.status_code == 412 and response["Cache-Control"] == "no-cache"


# -- R24: no stale 304, in both modes --------------------------------------------------------


# R24 after each kind of change, in both modes: tests/conformance/test_r24.py.


@pytest.mark.parametrize("url", ["/api/articles/", "detail"])
def test_r24_unrelated_noop_keeps_304(client, mode, commit, articles, url):
    if url == "detail":
        url = f"/api/articles/{articles[0].pk}/"
    first = get(client, url)
    assert get(client, url, first["ETag"]).status_code == 304


@pytest.mark.parametrize("url", ["/api/articles/", "detail"])
def test_r24_rolled_back_change_keeps_the_etag(client, mode, commit, articles, url):
    article = articles[0]
    if url == "detail":
        url = f"/api/articles/{article.pk}/"
    first = get(client, url)
    with commit(), pytest.raises(RuntimeError), transaction.atomic():
        Article.objects.filter(pk=article.pk).update(body="never")
        article.tags.clear()
        raise RuntimeError
    assert get(client, url, first["ETag"]).status_code == 304


def test_r24_counter_304_while_change_uncommitted_then_200(
    client, settings, articles, django_capture_on_commit_callbacks
):
    """A reader between the write and the bump sees old data with the old tag: fine."""
    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_MODE": "counter", "VERSION_CACHE": "versions"}
    settings.CACHES = {
        **settings.CACHES,
        "versions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "v2"},
    }
    settings.DEBUG = True
    versions.reset_stores()
    first = get(client, "/api/articles/")
    with django_capture_on_commit_callbacks(execute=True):
        Article.objects.filter(pk=articles[0].pk).update(body="changed")
    assert get(client, "/api/articles/", first["ETag"]).status_code == 200


# -- variants -------------------------------------------------------------------------------


def test_variant_pages_and_filters_differ(client, mode, articles):
    tags = {
        get(client, url)["ETag"]
        for url in ["/api/articles/", "/api/articles/?page=2", "/api/articles/?tag=red", "/api/articles/?page_size=3"]
    }
    assert len(tags) == 4


def test_variant_renderer(client, mode, articles):
    json = client.get("/api/articles/", headers={"accept": "application/json"})
    html = client.get("/api/articles/", headers={"accept": "text/html"})
    assert json["ETag"] != html["ETag"]
    assert "Accept" in json["Vary"] and "Accept" in html["Vary"]
    assert (
        client.get("/api/articles/", headers={"accept": "text/html", "if-none-match": json["ETag"]}).status_code == 200
    )


def test_variant_user_for_private_policy(client, mode):
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    ArticleFactory(owner=alice)
    ArticleFactory(owner=bob)
    client.force_login(alice)
    first = get(client, "/api/articles/mine/")
    assert first["Cache-Control"] == "private, no-cache"
    assert "Cookie" in first["Vary"]
    client.force_login(bob)
    second = get(client, "/api/articles/mine/", first["ETag"])
    assert second.status_code == 200 and second["ETag"] != first["ETag"]


def test_variant_etaggers(client, settings, articles):
    first = get(client, "/api/articles/")["ETag"]
    settings.HTTPCACHE = {**settings.HTTPCACHE, "ETAGGERS": [lambda request: "release-2"]}
    assert get(client, "/api/articles/")["ETag"] != first


# -- authentication --------------------------------------------------------------------------


def test_session_authentication_is_private(client, articles):
    client.force_login(UserFactory(username="sess"))
    response = get(client, "/api/articles/")
    assert response["Cache-Control"].startswith("private,") and "s-maxage" not in response["Cache-Control"]
    assert get(client, "/api/articles/", response["ETag"]).status_code == 304


def test_basic_authentication_is_private(client, articles):
    response = get(client, "/api/articles/", **basic())
    assert response["Cache-Control"].startswith("private,")
    assert "Authorization" in response["Vary"]


def test_token_authentication_is_private(client, articles):
    token = Token.objects.create(user=UserFactory(username="tok"))
    response = get(client, "/api/articles/", authorization=f"Token {token.key}")
    assert response["Cache-Control"].startswith("private,")
    assert get(client, "/api/articles/", response["ETag"], authorization=f"Token {token.key}").status_code == 304


# -- APIView and other surfaces -------------------------------------------------------------


def test_apiview_get_validators(client):
    UserFactory(username="pat")
    client.login(username="pat", password="pw")
    first = get(client, "/api/profile/")
    assert first.status_code == 200 and first["Cache-Control"] == "private, no-cache"
    second = get(client, "/api/profile/", first["ETag"])
    assert second.status_code == 304
    assert api.SERIALIZED["profile"] == 1


def test_policy_mixin_only(client):
    response = get(client, "/api/ping/")
    assert response["Cache-Control"] == "no-store" and "ETag" not in response


def test_untracked_counter_mode_falls_back(client, settings, caplog):
    """Counter mode on a view whose model store is refused: aggregate, never wrong."""
    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_MODE": "counter", "VERSION_CACHE": "nope"}
    versions.reset_stores()
    ArticleFactory()
    first = get(client, "/api/articles/")
    assert get(client, "/api/articles/", first["ETag"]).status_code == 304


def test_store_failure_falls_back_to_aggregate(client, settings, articles, monkeypatch, caplog):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_MODE": "counter", "VERSION_CACHE": "versions"}
    settings.CACHES = {
        **settings.CACHES,
        "versions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "v3"},
    }
    settings.DEBUG = True
    versions.reset_stores()
    counter_etag = get(client, "/api/articles/")["ETag"]
    from django.core.cache import caches

    def down(*args, **kwargs):
        raise ConnectionError("store down")

    monkeypatch.setattr(caches["versions"], "get_many", down)
    response = get(client, "/api/articles/", counter_etag)
    assert response.status_code == 200  # a different (aggregate) tag: never a stale 304
    assert "store down" in caplog.text
    assert get(client, "/api/articles/", response["ETag"]).status_code == 304


@pytest.mark.parametrize("mode", ["counter"], indirect=True)
def test_view_can_opt_out_of_counter_mode(client, mode, articles, django_assert_num_queries):
    etag = get(client, "/api/aggregate-articles/")["ETag"]
    with django_assert_num_queries(1):
        assert get(client, "/api/aggregate-articles/", etag).status_code == 304


@pytest.mark.django_db(transaction=True)  # real commits: the tag after a write
def test_write_compares_with_the_tag_of_a_private_get(client, articles):
    client.force_login(UserFactory(username="writer2"))
    url = f"/api/private-articles/{articles[0].pk}/"
    first = get(client, url)
    assert first["Cache-Control"] == "private, no-cache"
    response = client.patch(
        url, {"body": "x"}, content_type="application/json", headers={**JSON, "if-match": first["ETag"]}
    )
    assert response.status_code == 200
    assert response["ETag"] == get(client, url)["ETag"]


@pytest.mark.django_db(transaction=True)  # real commits: the tag after a write
def test_per_action_dependencies_apply_to_the_write_too(client, articles):
    url = f"/api/retrieve-depends/{articles[0].pk}/"
    etag = get(client, url)["ETag"]
    response = client.patch(url, {"body": "x"}, content_type="application/json", headers={**JSON, "if-match": etag})
    assert response.status_code == 200
    assert response["ETag"] == get(client, url)["ETag"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("mode", ["counter", "aggregate"], indirect=True)
def test_r16_tag_after_commit_for_a_model_without_version_fields(client, mode):
    """The write's own bump happens at commit; the tag it returns must already count it."""
    tag = TagFactory(name="blue")
    url = f"/api/tags/{tag.pk}/"
    etag = get(client, url)["ETag"]
    response = client.patch(url, {"name": "navy"}, content_type="application/json", headers={**JSON, "if-match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag
    assert response["ETag"] == get(client, url)["ETag"]
    again = client.patch(
        url, {"name": "teal"}, content_type="application/json", headers={**JSON, "if-match": response["ETag"]}
    )
    assert again.status_code == 200


@pytest.mark.parametrize("mode", ["aggregate"], indirect=True)
def test_r24_last_modified_of_a_filtered_list_after_a_row_leaves_it(client, mode, settings):
    """A save that moves a row out of ?category=x must move that list's Last-Modified."""
    from catalog.models import Product
    from django_httpcache.models import ModelStamp
    from tests.factories import CategoryFactory, ProductFactory

    books, music = CategoryFactory(slug="books"), CategoryFactory(slug="music")
    moved = ProductFactory(category=books)
    ProductFactory(category=books)
    Product._base_manager.update(updated_at=PAST)
    ModelStamp.objects.update(changed_at=PAST)
    with override_settings(ROOT_URLCONF="example_project.urls"):
        url = "/api/products/?category=books"
        first = get(client, url)
        assert first["Last-Modified"] == "Sun, 01 Jun 2025 00:00:00 GMT"
        moved.category = music
        moved.save()
        again = client.get(url, headers={**JSON, "if-modified-since": first["Last-Modified"]})
        assert again.status_code == 200


@pytest.mark.parametrize("mode", ["counter"], indirect=True)
def test_r16_no_store_tag_inside_an_open_transaction(client, mode, articles):
    """Under ATOMIC_REQUESTS (here: the test's transaction) the write's own bump comes at
    commit, after the response: a tag from store tokens would already be stale."""
    url = f"/api/articles/{articles[0].pk}/"
    etag = get(client, url)["ETag"]
    response = client.patch(url, {"body": "x"}, content_type="application/json", headers={**JSON, "if-match": etag})
    assert response.status_code == 200 and "ETag" not in response


@pytest.mark.parametrize("mode", ["aggregate"], indirect=True)
def test_r24_a_save_that_commits_late_still_changes_the_list(client, mode, articles, commit):
    """A transaction that set updated_at early but commits after a later one was read:
    COUNT and MAX(updated_at) do not move; the stamp written after the commit does."""
    from unittest import mock

    first = get(client, "/api/articles/")
    early = Article.objects.order_by("updated_at").first().updated_at - datetime.timedelta(seconds=5)
    with mock.patch("django.utils.timezone.now", return_value=early), commit():
        late = Article.objects.order_by("-updated_at").last()
        late.body = "saved long ago, committed now"
        late.save()
    again = get(client, "/api/articles/", first["ETag"])
    assert again.status_code == 200
