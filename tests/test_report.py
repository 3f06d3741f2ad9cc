"""manage.py httpcache_report: the cache matrix."""

from __future__ import annotations

import io
import json

from django.core.management import call_command
from django.test import override_settings

from django_httpcache.report import rows
from example_project import settings as example


def by_route() -> dict[str, object]:
    return {row.route: row for row in rows()}


def test_sources_and_validators_on_the_test_urls():
    found = by_route()
    assert (found["/catalog/"].policy, found["/catalog/"].source) == ("catalog", "decorator")
    assert found["/cond/"].validators == "conditional(): view's values"
    assert (found["/rules/by-name/"].policy, found["/rules/by-name/"].source) == ("user", "rule 1")
    assert found["/rules/static/app.css"].source == "rule 0"
    assert found["/api/articles/"].source == "DRF mixin"
    assert found["/api/articles/"].validators.startswith("model versions: collection")
    assert found["/api/articles/<pk>/"].validators == "model versions: instance"
    assert found["/api/profile/"].validators == "get_validators()"
    assert found["/plain/"].warnings == ["no policy"]
    assert "unknown policy" in found["/unknown-policy/"].warnings[0]
    assert "Accept" in found["/api/articles/"].vary


def test_public_policy_on_a_view_that_reads_the_user_is_flagged():
    found = by_route()
    assert any("reads the user" in w for w in found["/api/articles/"].warnings)  # get_queryset uses request.user


def test_example_project_report_text_and_json():
    with override_settings(
        ROOT_URLCONF="example_project.urls", HTTPCACHE=example.HTTPCACHE, MIDDLEWARE=example.MIDDLEWARE
    ):
        text = io.StringIO()
        call_command("httpcache_report", stdout=text)
        assert "/api/products/<pk>/" in text.getvalue() and "catalog (DRF mixin)" in text.getvalue()
        out = io.StringIO()
        call_command("httpcache_report", format="json", stdout=out)
    data = {row["route"]: row for row in json.loads(out.getvalue())}
    assert data["/health/"]["policy"] == "sensitive" and data["/health/"]["source"] == "rule 1"
    assert data["/api/me/"]["vary"] == ["Accept", "Authorization", "Cookie"]
    assert data["/products/"]["validators"].startswith("model versions: collection")


def test_refused_counter_mode_is_reported(settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_MODE": "counter", "VERSION_CACHE": "default"}
    settings.DEBUG = False
    from django_httpcache import versions

    versions.reset_stores()
    assert "counter mode refused" in by_route()["/api/articles/"].validators
