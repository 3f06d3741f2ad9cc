"""manage.py httpcache_report: the cache matrix."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path
from django.views.static import serve

from django_httpcache import dependencies
from django_httpcache.httputil import view_path
from django_httpcache.report import policies, rows
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
        ROOT_URLCONF="example_project.urls", HTTPCACHE=example.HTTPCACHE, MIDDLEWARE=example.MIDDLEWARE, TOOLBAR=False
    ):
        text = io.StringIO()
        call_command("httpcache_report", stdout=text)
        assert "/api/products/<pk>/" in text.getvalue() and "catalog (DRF mixin)" in text.getvalue()
        out = io.StringIO()
        call_command("httpcache_report", format="json", stdout=out)
    data = {row["route"]: row for row in json.loads(out.getvalue())["routes"]}
    assert data["/health/"]["policy"] == "sensitive" and data["/health/"]["source"] == "rule 1"
    assert data["/api/me/"]["vary"] == ["Accept", "Authorization", "Cookie"]
    assert data["/products/"]["validators"].startswith("model versions: collection")


def test_refused_counter_mode_is_reported(settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_MODE": "counter", "VERSION_CACHE": "default"}
    settings.DEBUG = False
    from django_httpcache import versions

    versions.reset_stores()
    assert "counter mode refused" in by_route()["/api/articles/"].validators


# -- issue 14: what runtime does, dependencies, policies, third-party routes ----------------


def test_a_view_on_an_untracked_model_says_what_runtime_answers_from(monkeypatch):
    from django_httpcache import versions
    from tests.testapp.models import Tag

    monkeypatch.setattr(versions.registry, "_tracked", versions.registry._tracked - {Tag})
    row = by_route()["/api/articles/"]
    assert row.validators.startswith("body hash (middleware): testapp.tag not tracked, so no model versions")
    assert "testapp.tag (declared)" in row.dependencies


@pytest.mark.django_db
def test_view_keys_and_observed_dependencies_with_when():
    from tests.testapp import api, views

    found = by_route()
    assert found["/api/articles/"].view_key == f"{view_path(api.ArticleViewSet)}:list"
    assert found["/api/articles/<pk>/"].view_key == f"{view_path(api.ArticleViewSet)}:retrieve"
    assert found["/cond/"].view_key == views.cond.httpcache_view_key
    dependencies.learn(found["/api/articles/"].view_key, ["testapp.author"])
    dependencies.forget()  # the report's process did not render it: the shared copy says so
    (observed,) = [d for d in by_route()["/api/articles/"].dependencies if d.startswith("testapp.author")]
    when = dependencies.shared_known(found["/api/articles/"].view_key).observed_at["testapp.author"]
    assert observed == f"testapp.author (observed {when})"


def test_policies_section_lists_undefined_and_unused(settings):
    settings.HTTPCACHE = {
        **settings.HTTPCACHE,
        "POLICIES": {**settings.HTTPCACHE["POLICIES"], "spare": "no-cache"},
        "RULES": [{"path": "^/rules/", "policy": "pubilc"}],
    }
    summary = policies()
    assert summary.undefined["pubilc"] == ["HTTPCACHE['RULES'][0]"]
    assert summary.undefined["no-such-policy"] == ["tests.testapp.views.unknown_policy (cache_policy())"]
    assert "spare" in summary.unused and "catalog" not in summary.unused
    out = io.StringIO()
    call_command("httpcache_report", stdout=out)
    assert "pubilc: UNDEFINED, served no-store; used by HTTPCACHE['RULES'][0]" in out.getvalue()
    assert "spare: no-cache  (unused)" in out.getvalue()


def local_view(request):
    return HttpResponse("ours")


urlpatterns = [path("ours/", local_view), path("files/<path:path>", serve, {"document_root": "/nonexistent"})]


@override_settings(ROOT_URLCONF=__name__)
def test_third_party_routes_are_counted_unless_asked_for():
    out = io.StringIO()
    call_command("httpcache_report", stdout=out)
    assert "/ours/" in out.getvalue() and "/files/" not in out.getvalue()
    assert "(1 routes of django not listed; --all lists them)" in out.getvalue()
    out = io.StringIO()
    call_command("httpcache_report", "--all", stdout=out)
    assert "/files/<path:path>" in out.getvalue()


def test_markdown_has_one_row_per_route_and_the_policies():
    out = io.StringIO()
    call_command("httpcache_report", format="markdown", stdout=out)
    text = out.getvalue()
    assert "| `/api/articles/` |" in text and "| `catalog` | `public, max-age=60" in text
    assert len([line for line in text.splitlines() if line.startswith("| `/")]) == len(list(rows()))
