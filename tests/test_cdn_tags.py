"""Surrogate keys on responses (django_httpcache.cdn.tags), against the example API."""

from __future__ import annotations

import io
import logging
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import override_settings

from catalog.models import Category, Product, Tag
from django_httpcache.cdn import object_key
from django_httpcache.cdn.backends.varnish import VarnishBackend
from django_httpcache.cdn.checks import cdn_problems
from django_httpcache.cdn.tags import budget, keys_of, stats
from example_project import settings as example
from tests.cdn_backend import PATH, RecordingBackend
from tests.live.server import basic_auth

pytestmark = pytest.mark.django_db
JSON = {"Accept": "application/json"}
MODELS = "catalog.category catalog.product catalog.tag"


@pytest.fixture
def product():
    category = Category.objects.create(name="Tools", slug="tools")
    item = Product.objects.create(name="Hammer", slug="hammer", price=Decimal("9.50"), category=category)
    item.tags.add(Tag.objects.create(name="red", slug="red"))
    return item


def behind_cdn(**cdn):
    value = {**example.HTTPCACHE, "CDN": {"BACKEND": PATH, **cdn}}
    return override_settings(ROOT_URLCONF="example_project.urls", HTTPCACHE=value, TOOLBAR=False)


def get(client, url, **headers):
    client.get(url, headers=JSON)  # the first render teaches the view what it reads
    return client.get(url, headers={**JSON, **headers})


def test_list_carries_a_key_per_model_it_covers(client, product, recording):
    with behind_cdn():
        response = get(client, "/api/products/")
    assert response.status_code == 200
    assert response["Surrogate-Key"] == MODELS


def test_detail_carries_its_object_key_too(client, product, recording):
    with behind_cdn(PREFIX="shop-"):
        response = get(client, f"/api/products/{product.pk}/")
    keys = response["Surrogate-Key"].split()
    # Its row, not its model: it reads no other product, so its validators do not cover
    # the model's version, and a change to another product purges it not.
    pk = product.pk
    assert keys == [
        "shop-catalog.category",
        "shop-catalog.tag",
        f"shop-catalog.product.{pk}",
        "shop-catalog.product._rows",
    ]


def test_first_render_is_tagged_with_what_it_read(client, product, recording):
    # Its validators are withheld (R26), but a CDN may keep it: a category rename must purge it.
    with behind_cdn():
        response = client.get("/api/products/", headers=JSON)
    assert set(response["Surrogate-Key"].split()) == set(MODELS.split())


def test_a_304_repeats_the_keys(client, product, recording):
    with behind_cdn():
        full = get(client, "/api/products/")
        not_modified = client.get("/api/products/", headers={**JSON, "If-None-Match": full["ETag"]})
    assert not_modified.status_code == 304
    assert not_modified["Surrogate-Key"] == full["Surrogate-Key"]


def test_private_responses_are_not_tagged(client, product, recording, django_user_model):
    django_user_model.objects.create_user("ann", password="pw")
    with behind_cdn():
        response = get(client, "/api/products/", Authorization=basic_auth("ann", "pw")["Authorization"])
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    assert "Surrogate-Key" not in response


def test_no_cdn_no_keys(client, product):
    with override_settings(ROOT_URLCONF="example_project.urls", HTTPCACHE=example.HTTPCACHE, TOOLBAR=False):
        assert "Surrogate-Key" not in get(client, "/api/products/")


def test_header_name_and_separator_follow_the_backend(client, product, recording):
    with behind_cdn(HEADER="Cache-Tag", OPTIONS={"separator": ","}):
        response = get(client, "/api/products/")
    assert response["Cache-Tag"] == MODELS.replace(" ", ",")
    assert "Surrogate-Key" not in response


def test_strip_tags_sends_keys_only_to_the_cdn(client, product, recording):
    with behind_cdn(STRIP_TAGS="X-From-Cdn"):
        assert "Surrogate-Key" not in get(client, "/api/products/")
        assert get(client, "/api/products/", **{"X-From-Cdn": "1"})["Surrogate-Key"] == MODELS


def test_over_budget_collapses_object_keys_into_model_keys(client, product, recording, caplog):
    with behind_cdn(OPTIONS={"max_tags": 3}), caplog.at_level(logging.WARNING, "django_httpcache"):
        first = get(client, f"/api/products/{product.pk}/")
        again = client.get(f"/api/products/{product.pk}/", headers=JSON)
    # The row keys give way to the model key: never a partial header.
    assert first["Surrogate-Key"] == again["Surrogate-Key"] == "catalog.category catalog.tag catalog.product"
    assert stats["collapsed"] >= 2
    assert sum("exceed the recording budget" in r.getMessage() for r in caplog.records) == 1  # once


def test_over_budget_a_detail_keeps_its_model_key_instead_of_its_row_keys():
    detail = keys_of(["a.tag"], ("a.item", 1), "")
    assert budget(detail, RecordingBackend({})) == (("a.tag", "a.item.1", "a.item._rows"), "fits")
    assert budget(detail, RecordingBackend({"max_tags": 2})) == (("a.tag", "a.item"), "collapsed")
    assert budget(detail, RecordingBackend({"max_tag_bytes": 9})).keys == ("a.tag", "a.item")
    # Model keys are never dropped, even when they alone do not fit.
    over = budget(keys_of(["a.b", "a.c"], None, ""), RecordingBackend({"max_tags": 1}))
    assert over == (("a.b", "a.c"), "over_budget")
    bytes_budget = RecordingBackend({"max_header_bytes": 7})
    assert budget(keys_of(["a.b", "a.c"], None, ""), bytes_budget).outcome == "fits"  # "a.b a.c" is 7 bytes


def test_a_detail_covers_its_row_not_its_model_unless_it_reads_other_rows():
    from django_httpcache.validators import Plan
    from tests.testapp.models import Article, Tag

    article = Article(pk=3)
    assert Plan(article, None).covers([]) == ((), ("testapp.article", 3))
    assert Plan(article, None).covers([Tag, Article]) == (("testapp.article", "testapp.tag"), ("testapp.article", 3))
    assert Plan(Article.objects.all(), None).covers([Tag])[0] == ("testapp.article", "testapp.tag")


def test_object_keys_use_safe_characters_only():
    assert object_key("catalog.product", 42) == "catalog.product.42"
    odd = object_key("catalog.product", "a b:c/ü")
    assert odd.startswith("catalog.product.h") and odd == object_key("catalog.product", "a b:c/ü")
    assert odd.replace(".", "").replace("_", "").replace("-", "").isalnum()


def test_bad_cdn_settings_are_check_errors_and_never_a_500(client, product, caplog):
    bad = {**example.HTTPCACHE, "CDN": {"BACKEND": "nope.Nothing", "PREFX": "x", "PREFIX": "a b"}}
    with override_settings(ROOT_URLCONF="example_project.urls", HTTPCACHE=bad, TOOLBAR=False):
        ids = sorted(p.id for p in cdn_problems())
        response = get(client, "/api/products/")
    assert ids == ["httpcache.E032", "httpcache.E033"]
    assert response.status_code == 200 and "Surrogate-Key" not in response
    with override_settings(HTTPCACHE={"CDN": {"BACKEND": "nope.Nothing"}}):
        assert [p.id for p in cdn_problems()] == ["httpcache.E034"]
        assert "nope.Nothing" in cdn_problems()[0].msg


def test_varnish_options_are_checked():
    problems = VarnishBackend({"mode": "bogus", "url": "ftp://x"}).problems()
    assert [p.id for p in problems] == ["httpcache.E042", "httpcache.E042"]
    assert "'mode'" in problems[0].msg + problems[1].msg
    assert VarnishBackend({}).problems() == []
    assert VarnishBackend({}).urls == ["http://127.0.0.1:8080"]


def test_report_shows_each_views_tag_header(product, recording):
    out = io.StringIO()
    with behind_cdn(OPTIONS={"max_tags": 1}):
        call_command("httpcache_report", stdout=out)
    text = out.getvalue()
    assert "CDN tags: Surrogate-Key: catalog.product" in text
    assert "surrogate keys over the CDN budget" in text


def test_check_warns_about_views_over_budget_and_backends_without_a_header(product, recording):
    with behind_cdn(OPTIONS={"max_tags": 1}):
        (warning,) = cdn_problems()
    assert warning.id == "httpcache.W030" and warning.warning
    assert "api:product-detail" in warning.msg
    with behind_cdn(OPTIONS={"header": None}):
        assert [p.id for p in cdn_problems()] == ["httpcache.W031"]
