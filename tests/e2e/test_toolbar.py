"""The HTTP cache panel of django-debug-toolbar, in a real browser (Debian's Chromium
driven by Playwright), on the example project in debug mode: after a write, a reload
revalidates, gets a 200, and the panel names the reason."""

from __future__ import annotations

import importlib.util

import pytest

from tests.e2e.browser import chromium
from tests.e2e.conftest import require
from tests.e2e.test_browser import chromium_executable, navigations, playwright  # noqa: F401  (fixtures)
from tests.live.server import example_server

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def debug_site():
    require(
        "django-debug-toolbar",
        importlib.util.find_spec("debug_toolbar") is not None,
        "pip install -e '.[test]' (make install does)",
    )
    # One worker: the toolbar keeps each request's panels in its process, and the panel's
    # reasons come from the tags this process sent.
    with example_server(workers=1, env={"DJANGO_DEBUG": "1"}, products=5) as server:
        yield server


def test_panel_names_why_a_revalidated_request_got_a_200(playwright, chromium_executable, debug_site):  # noqa: F811
    site = debug_site
    url = site.base_url + "/products/"
    site.get("/products/")  # the first render learns what the page reads (R26)
    with chromium(playwright, chromium_executable, site.workdir / "access.log") as browser:
        page = browser.page
        sent = navigations(page, url)
        first = page.goto(url)
        assert first.status == 200 and first.headers.get("etag")
        detail = site.get("/api/products/1/", accept="application/json")
        write = site.request(
            "PATCH",
            "/api/products/1/",
            {**site.auth, "If-Match": detail.headers["ETag"], "Accept": "application/json"},
            {"name": "Renamed in the browser test"},
        )
        assert write.status == 200
        again = page.reload()
        assert sent[-1].all_headers().get("if-none-match") == first.headers["etag"]  # revalidated
        assert again.status == 200 and "Renamed in the browser test" in page.content()
        page.click("#djdt-HttpCachePanel a")
        reason = page.locator("#httpcache-reason")
        reason.wait_for()
        text = reason.inner_text()
        assert text.startswith("ETag changed: ") and "catalog.product" in text and text.endswith(" moved"), text
        panel = page.locator("#HttpCachePanel").inner_text()
        assert "the @cache_policy decorator" in panel and "catalog" in panel
