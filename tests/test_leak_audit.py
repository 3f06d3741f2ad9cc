"""Leak audit: every URL of the example project, as anonymous, session user, Basic
user, and with a response that sets a cookie. Nothing that depends on who asks, and
nothing that sets a cookie, may be shareable (R20, R21); what varies by user says so
in Vary (R19)."""

from __future__ import annotations

import base64
import io
import re

import pytest
from django.core.management import call_command
from django.http import HttpRequest
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from django_httpcache.policy import parse_cache_control
from example_project import settings as example

pytestmark = pytest.mark.django_db

SET_COOKIE = "tests.test_leak_audit.SetCookieMiddleware"


class SetCookieMiddleware:
    """Inside HttpCacheMiddleware: every response sets a cookie, as many apps' do."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        response = self.get_response(request)
        response.set_cookie("tracking", "1")
        return response


def example_urls() -> list[str]:
    with override_settings(ROOT_URLCONF="example_project.urls"):
        resolver = get_resolver()
        urls = []

        def walk(patterns, prefix=""):
            for pattern in patterns:
                route = prefix + str(pattern.pattern)
                if isinstance(pattern, URLResolver):
                    walk(pattern.url_patterns, route)
                elif isinstance(pattern, URLPattern):
                    route = route.replace("^", "").replace("$", "")
                    if "(?P<format>" in route:
                        continue
                    route = re.sub(r"<int:\w+>|\(\?P<\w+>[^)]*\)", "1", route)
                    urls.append("/" + route.replace("\\", ""))

        walk(resolver.url_patterns)
    return sorted(set(urls))


URLS = example_urls()
WHO = ["anonymous", "session", "basic", "set-cookie"]


@pytest.fixture
def example_site(settings):
    call_command("seed_demo", products=5, stdout=io.StringIO())
    settings.ROOT_URLCONF = "example_project.urls"
    settings.HTTPCACHE = example.HTTPCACHE
    settings.REST_FRAMEWORK = example.REST_FRAMEWORK
    settings.MIDDLEWARE = example.MIDDLEWARE


def test_every_url_is_audited():
    assert {
        "/products/",
        "/products/1/",
        "/health/",
        "/api/products/",
        "/api/products/1/",
        "/api/categories/",
        "/api/me/",
        "/api/ping/",
    } <= set(URLS)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("url", URLS)
def test_nothing_user_specific_is_shareable(client, example_site, settings, url, who):
    headers = {"accept": "application/json"}
    if who == "session":
        client.login(username="demo", password="demo-password")
    elif who == "basic":
        headers["authorization"] = "Basic " + base64.b64encode(b"demo:demo-password").decode()
    elif who == "set-cookie":
        middleware = list(settings.MIDDLEWARE)
        middleware.insert(middleware.index("django_httpcache.middleware.HttpCacheMiddleware") + 1, SET_COOKIE)
        settings.MIDDLEWARE = middleware
    for method in ("get", "head"):
        response = getattr(client, method)(url, headers=headers)
        assert response.status_code < 500
        directives = dict(parse_cache_control(response.headers.get("Cache-Control", "")))
        credentialed = who in ("session", "basic")
        if credentialed or response.cookies:
            assert "public" not in directives, (url, who, directives)
            assert "s-maxage" not in directives, (url, who, directives)
            if directives and "no-store" not in directives:
                assert "private" in directives, (url, who, directives)
        vary = {v.strip().lower() for v in response.headers.get("Vary", "").split(",")}
        if "private" in directives:
            if who == "session":
                assert "cookie" in vary, (url, vary)
            if who == "basic":
                assert "authorization" in vary, (url, vary)
