"""R27: CDN-Cache-Control (RFC 9213) follows Cache-Control's syntax and safety rules."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from django_httpcache.policy import CachePolicy, apply

CATALOG = {"public": True, "max_age": 60, "cdn": {"max_age": 86400, "stale_while_revalidate": 60}}
POLICY = CachePolicy.parse(CATALOG, name="catalog")
rf = RequestFactory()


def served(request, response=None, policy=POLICY):
    response = response or HttpResponse("ok")
    apply(request, response, policy)
    return response


def test_r27_cdn_part_becomes_cdn_cache_control():
    response = served(rf.get("/"))
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["CDN-Cache-Control"] == "max-age=86400, stale-while-revalidate=60"
    assert "Surrogate-Control" not in response


def test_r27_surrogate_control_when_the_setting_asks():
    with override_settings(HTTPCACHE={"CDN": {"SURROGATE_CONTROL": True}}):
        response = served(rf.get("/"))
    assert response["Surrogate-Control"] == response["CDN-Cache-Control"]


@pytest.mark.parametrize("headers", [{"Authorization": "Basic eDp5"}, {"Cookie": "sessionid=abc"}])
def test_r27_credentialed_requests_get_no_cdn_lifetime(headers):
    response = served(rf.get("/", headers=headers))
    assert "CDN-Cache-Control" not in response
    assert response["Cache-Control"].startswith("private")


def test_r27_cookie_setting_response_loses_the_cdn_lifetime_on_the_second_pass():
    request = rf.get("/")
    response = served(request)
    assert "CDN-Cache-Control" in response
    response.set_cookie("csrftoken", "x")  # a middleware below the decorator set one
    apply(request, response, None)  # the middleware's pass
    assert "CDN-Cache-Control" not in response


@pytest.mark.parametrize("status", [500, 503, 400, 403, 302])
def test_r27_errors_get_no_cdn_lifetime(status):
    response = served(rf.get("/"), HttpResponse(status=status))
    assert "CDN-Cache-Control" not in response


def test_r27_view_set_cdn_header_is_downgraded_for_credentialed_requests():
    response = HttpResponse()
    response["CDN-Cache-Control"] = "public, max-age=600"
    response["Surrogate-Control"] = "max-age=600"
    served(rf.get("/", headers={"Authorization": "Basic eDp5"}), response, policy=None)
    assert response["CDN-Cache-Control"] == "private, max-age=600"
    assert response["Surrogate-Control"] == "no-store"


def test_r27_cdn_part_is_checked_as_cache_control():
    ids = lambda value: [p.id for p in CachePolicy.problems(value, name="c")]  # noqa: E731
    assert ids({"public": True, "cdn": {"max_age": -1}}) == ["httpcache.E006"]
    assert ids({"public": True, "cdn": {"bogus": True}}) == ["httpcache.E003"]
    assert ids({"public": True, "cdn": {"no_store": True, "max_age": 5}}) == ["httpcache.E005"]
    assert ids({"public": True, "cdn": {"vary": ["X"]}}) == ["httpcache.E030"]
    assert ids({"private": True, "cdn": {"max_age": 5}}) == ["httpcache.E031"]
    assert ids({"no_store": True, "cdn": {"max_age": 5}}) == ["httpcache.E031"]
    assert "['c']['cdn']" in CachePolicy.problems({"cdn": {"max_age": "x"}}, name="c")[0].msg
