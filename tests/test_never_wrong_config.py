"""Issue 10, items 8, 12 and 13: configurations and querysets that crash or mislead."""

from __future__ import annotations

import re

import pytest
from django.core import checks

from django_httpcache import versions
from tests.shapes.models import Label, Sku


@pytest.fixture
def server_errors(client):
    """The client answers 500s instead of raising the view's exception."""
    client.raise_request_exception = False
    return client


def error_ids_and_messages(level: int = checks.ERROR) -> list[tuple[str, str]]:
    return [(m.id or "", m.msg) for m in checks.run_checks() if m.level >= level]


# -- item 8 -------------------------------------------------------------------------------------


def test_item08_locmem_subclass_is_refused_as_per_process(settings):
    settings.DEBUG = False
    settings.CACHES = {**settings.CACHES, "versions": {"BACKEND": "tests.shapes.caches.MyCache"}}
    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_MODE": "counter", "VERSION_CACHE": "versions"}
    versions.reset_stores()
    assert "httpcache.E020" in {id_ for id_, _ in error_ids_and_messages()}
    assert versions.counter_store() is None


# -- item 12 ------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/shapes/labels/none/", "/shapes/labels/by-ids/?ids=", "/shapes/sku-union/", "/shapes/labels/as-list/"]
)
def test_item12_unusual_querysets_are_not_500(server_errors, url):
    for name in ("a", "b"):
        Label.objects.create(name=name)
        Sku.objects.create(code=name, name=name)
    response = server_errors.get(url, headers={"accept": "application/json"})
    assert response.status_code == 200
    assert isinstance(response.json(), list)


# -- item 13 ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_item13_non_string_policy_key_is_a_check_error_not_a_crash(server_errors, settings):
    # A warning since issue 14: its runtime fallback (the policy is ignored) is never wrong.
    settings.HTTPCACHE = {**settings.HTTPCACHE, "POLICIES": {1: "no-store", **settings.HTTPCACHE["POLICIES"]}}
    messages = error_ids_and_messages(checks.WARNING)
    assert any(id_.startswith("httpcache.") and re.search(r"\b1\b", msg) for id_, msg in messages)
    assert server_errors.get("/shapes/label-list-page/").status_code == 200


@pytest.mark.django_db
def test_item13_raising_etagger_is_not_500(server_errors, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "ETAGGERS": ["tests.shapes.etaggers.boom"]}
    Label.objects.create(name="a")
    assert server_errors.get("/shapes/label-list-page/").status_code == 200


def test_item13_version_field_id_is_a_check_error(settings):
    # A warning since issue 14 (the field is not used: never wrong), so that the migration
    # adding a real version field to the model is not blocked by it.
    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_FIELD": "id"}
    messages = error_ids_and_messages(checks.WARNING)
    assert any(id_ == "httpcache.E023" and "VERSION_FIELD" in msg for id_, msg in messages)


@pytest.mark.django_db
def test_item13_version_field_id_keeps_primary_keys(settings):
    label = Label.objects.create(name="x")
    pk = label.pk
    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_FIELD": "id"}
    label.name = "y"
    label.save()
    assert label.pk == pk
    assert list(Label.objects.values_list("pk", "name")) == [(pk, "y")]
