"""Privacy in any MIDDLEWARE order: cookies Django's middleware will set are foreseen (R21)."""

from __future__ import annotations

import pytest
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.test import AsyncClient, Client, override_settings
from django.urls import path

from django_httpcache.decorators import cache_policy

OURS = "django_httpcache.middleware.HttpCacheMiddleware"
DJANGO = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
LAST = [*DJANGO, OURS]  # appended at the end: the natural place, and the reported case
FIRST = [OURS, *DJANGO]


@cache_policy("catalog")
def writes_session(request: HttpRequest) -> HttpResponse:
    request.session["cart"] = [1]
    return HttpResponse("cart")


@cache_policy("catalog")
async def async_writes_session(request: HttpRequest) -> HttpResponse:
    await request.session.aset("cart", [1])
    return HttpResponse("cart")


@cache_policy("catalog")
def reads_session(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(request.session.get("cart")))


@cache_policy("catalog")
def csrf_form(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f'<input name="csrfmiddlewaretoken" value="{get_token(request)}">')


@cache_policy("catalog")
def adds_message(request: HttpRequest) -> HttpResponse:
    messages.info(request, "Saved.")
    return HttpResponse("saved")


@cache_policy("catalog")
def reads_messages(request: HttpRequest) -> HttpResponse:
    return HttpResponse(" ".join(str(m) for m in messages.get_messages(request)))


@cache_policy("catalog")
def anonymous(request: HttpRequest) -> HttpResponse:
    return HttpResponse("same for everyone")


urlpatterns = [
    path("writes-session/", writes_session),
    path("async-writes-session/", async_writes_session),
    path("reads-session/", reads_session),
    path("csrf-form/", csrf_form),
    path("adds-message/", adds_message),
    path("reads-messages/", reads_messages),
    path("anonymous/", anonymous),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def never_shareable(response: HttpResponse) -> None:
    cache_control = response.headers["Cache-Control"]
    assert "public" not in cache_control and "s-maxage" not in cache_control, cache_control
    assert cache_control.startswith("private"), cache_control
    assert response.cookies, "the cookie the response is private for"


@pytest.mark.parametrize("middleware", [LAST, FIRST, DJANGO], ids=["last", "first", "absent"])
@pytest.mark.parametrize("url", ["/writes-session/", "/csrf-form/", "/adds-message/"])
def test_cookie_setting_responses_are_never_shareable(middleware, url):
    with override_settings(MIDDLEWARE=middleware):
        never_shareable(Client().get(url))


@pytest.mark.parametrize("middleware", [LAST, FIRST], ids=["last", "first"])
async def test_async_session_write_is_never_shareable(middleware):
    # Signed-cookie sessions: no query from the executor thread's own connection.
    with override_settings(MIDDLEWARE=middleware, SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies"):
        response = await AsyncClient().get("/async-writes-session/")
    never_shareable(response)
    assert "sessionid" in response.cookies


@pytest.mark.parametrize("middleware", [LAST, FIRST], ids=["last", "first"])
def test_reading_the_session_keeps_the_policy_and_varies_on_cookie(middleware):
    # No cookie is set: the answer is the same for every client without a session,
    # which Vary: Cookie keys on (what SessionMiddleware adds, in either order).
    with override_settings(MIDDLEWARE=middleware):
        response = Client().get("/reads-session/")
    assert response.headers["Cache-Control"].startswith("public")
    assert "Cookie" in response.headers["Vary"] and not response.cookies


def test_untouched_request_stays_public_in_any_order():
    for middleware in (LAST, FIRST):
        with override_settings(MIDDLEWARE=middleware):
            response = Client().get("/anonymous/")
        assert response.headers["Cache-Control"].startswith("public, max-age=60, s-maxage=600")
        assert not response.cookies


@pytest.mark.parametrize("middleware", [LAST, FIRST], ids=["last", "first"])
def test_reading_messages_is_private_only_when_a_cookie_follows(middleware):
    client = Client()
    with override_settings(MIDDLEWARE=middleware):
        # The default storage (fallback) clears only what it loaded: nothing, no cookie.
        response = client.get("/reads-messages/")
        assert response.headers["Cache-Control"].startswith("public") and not response.cookies
        client.get("/adds-message/")
        client.cookies.pop("sessionid", None)  # keep the request anonymous but for the messages
        never_shareable(client.get("/reads-messages/"))  # clears the messages cookie
        cookie_only = "django.contrib.messages.storage.cookie.CookieStorage"
        with override_settings(MESSAGE_STORAGE=cookie_only):
            never_shareable(Client().get("/reads-messages/"))  # deletes its cookie after any read
