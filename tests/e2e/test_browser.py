"""A real browser (Debian's Chromium, driven by Playwright) against the example project.

What the browser did with its cache is read from two sides: Playwright shows the
requests the page made and the headers Chromium's network stack put on them (the
If-None-Match it added from its cache), and gunicorn's access log shows what reached
the server and what it answered (a 304 the page sees as the cached 200; nothing at all
for a cache hit).
"""

from __future__ import annotations

import importlib.util
import json
import re

import pytest

from tests.e2e.browser import chromium
from tests.e2e.conftest import require, require_binary

pytestmark = pytest.mark.live

CSS_RULE_COLOR = "rgb(43, 93, 125)"  # h1 { color: #2b5d7d } in catalog/site.<hash>.css


@pytest.fixture(scope="module")
def chromium_executable():
    return require_binary("chromium", "chromium")


@pytest.fixture(scope="module")
def playwright(chromium_executable):
    require(
        "playwright (Python package)",
        importlib.util.find_spec("playwright") is not None,
        "pip install -e '.[test]' (make install does)",
    )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser(playwright, chromium_executable, site):
    """A fresh Chromium profile on the module's server (prerequisites checked before it starts)."""
    with chromium(playwright, chromium_executable, site.workdir / "access.log") as opened:
        yield opened


def navigations(page, url):
    """The main-frame requests for ``url``, as the page makes them."""
    seen = []

    def on_request(request):
        if request.is_navigation_request() and request.url == url:
            seen.append(request)

    page.on("request", on_request)
    return seen


def h1_color(page) -> str:
    return page.eval_on_selector("h1", "h1 => getComputedStyle(h1).color")


def test_reload_revalidates_with_the_etag_and_gets_304(browser, site):
    page, url = browser.page, site.base_url + "/products/"
    sent = navigations(page, url)

    first = page.goto(url)
    assert first.status == 200
    etag = first.headers["etag"]
    assert re.fullmatch(r'(W/)?"[^"]+"', etag), etag
    assert first.headers["cache-control"].startswith("public, max-age=2"), first.headers["cache-control"]

    page.reload()
    assert page.locator("h1").inner_text() == "Products"
    assert page.locator("li").count() == 50  # the cached body, whole

    assert [request.method for request in sent] == ["GET", "GET"]
    assert "if-none-match" not in sent[0].all_headers()
    assert sent[1].all_headers().get("if-none-match") == etag, sent[1].all_headers()
    # The page was told 200 (its cached copy); the server says it answered 304.
    assert browser.log.settled("/products/", 2) == [200, 304]


def test_immutable_stylesheet_is_fetched_once(browser, site):
    page = browser.page
    css_headers = []

    def on_response(response):
        if "/static/" in response.url:
            css_headers.append(response.headers)

    page.on("response", on_response)

    page.goto(site.base_url + "/products/")
    css = page.eval_on_selector('link[rel="stylesheet"]', "link => link.getAttribute('href')")
    assert re.fullmatch(r"/static/catalog/site\.[0-9a-f]{12}\.css", css), css
    assert h1_color(page) == CSS_RULE_COLOR
    assert css_headers and css_headers[0]["cache-control"] == "public, max-age=31536000, immutable"

    page.reload()
    assert h1_color(page) == CSS_RULE_COLOR
    with page.expect_navigation():
        page.click('a[href="/products/1/"]')
    assert page.url == site.base_url + "/products/1/"
    assert page.eval_on_selector('link[rel="stylesheet"]', "link => link.getAttribute('href')") == css
    assert h1_color(page) == CSS_RULE_COLOR  # styled, from the browser's cache

    assert browser.log.settled("/products/1/", 1) == [200]
    assert browser.log.settled("/products/", 2) == [200, 304]
    # Three pages styled by it, one request: neither the reload nor the next page asked.
    assert browser.log.settled(css, 1) == [200]


def test_reload_after_a_write_gets_the_new_page(browser, site):
    """The write moves the validator: the reload's If-None-Match no longer matches."""
    page, path = browser.page, "/products/7/"
    url = site.base_url + path
    sent = navigations(page, url)

    first = page.goto(url)
    old_etag, old_name = first.headers["etag"], page.locator("h1").inner_text()

    api = site.get("/api/products/7/", accept="application/json")
    new_name = old_name + " (renamed in the browser test)"
    write = site.request(
        "PATCH",
        "/api/products/7/",
        {**site.auth, "If-Match": api.headers["ETag"], "Accept": "application/json"},
        {"name": new_name},
    )
    assert write.status == 200, write.body

    second = page.reload()
    assert page.locator("h1").inner_text() == new_name
    assert sent[1].all_headers().get("if-none-match") == old_etag
    new_etag = second.headers["etag"]
    assert new_etag != old_etag

    page.reload()  # and the new validator is the one revalidated from now on
    assert page.locator("h1").inner_text() == new_name
    assert sent[2].all_headers().get("if-none-match") == new_etag
    assert browser.log.settled(path, 3) == [200, 200, 304]


def session_cookie(site, username: str) -> str:
    """A signed-in session for ``username`` (created if missing), as the login view would make it."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from django.test import Client\n"
        f"user, _ = get_user_model().objects.get_or_create(username={username!r}, "
        f"defaults={{'email': {username + '@example.com'!r}}})\n"
        "client = Client()\n"
        "client.force_login(user)\n"
        "print('SESSION=' + client.cookies['sessionid'].value)\n"
    )
    output = site.manage("shell", "--no-imports", "-c", code)
    return re.search(r"^SESSION=(\S+)$", output, re.M)[1]


def test_private_profile_is_not_reused_across_users(browser, site):
    """/api/me/ (private, no-cache, Vary: Cookie) in one profile as its users take turns.

    Signing out and in again is, for the browser, another session cookie on the same
    URL: the copy it holds is the previous user's, and it must never be shown.
    """
    page, context, me = browser.page, browser.context, "/api/me/"
    sent = []

    def on_request(request):
        if request.url == site.base_url + me:
            sent.append(request)

    page.on("request", on_request)
    demo, alice = session_cookie(site, "demo"), session_cookie(site, "alice")
    page.goto(site.base_url + "/products/")  # a page of the origin to fetch from

    def sign_in(session: str) -> None:
        context.clear_cookies()
        context.add_cookies([{"name": "sessionid", "value": session, "url": site.base_url}])

    sign_in(demo)
    first = browser.fetch(me)
    assert first["status"] == 200
    assert json.loads(first["body"])["username"] == "demo"
    assert first["cacheControl"] == "private, no-cache"
    assert "Cookie" in first["vary"]

    again = browser.fetch(me)  # no-cache: stored, but asked about every time
    assert again["status"] == 200 and json.loads(again["body"])["username"] == "demo"

    sign_in(alice)
    other = browser.fetch(me)
    assert other["status"] == 200
    assert json.loads(other["body"])["username"] == "alice", other

    sign_in(demo)  # back: demo's own profile again, never alice's
    back = browser.fetch(me)
    assert back["status"] == 200 and json.loads(back["body"])["username"] == "demo"

    assert len(sent) == 4
    assert sent[1].all_headers().get("if-none-match") == first["etag"]
    # Every fetch reached the server; only demo's revalidation of demo's own copy got a 304.
    # (Chromium asks for alice's and demo's second profile with the tag of the copy it
    # holds, the other user's: Vary: Cookie does not match, but it still revalidates.)
    assert browser.log.settled(me, 4) == [200, 304, 200, 200]
