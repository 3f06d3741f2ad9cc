"""Debian's Chromium driven by Playwright, and gunicorn's access log as the witness.

A browser answers a 304 from its own cache and reports it to the page (and to
Playwright) as the cached 200, and a cache hit never reaches the server at all: what
the server saw is only in its access log. Every browser here gets a user agent of its
own, so the log lines it caused are told apart from everything else's.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .peers import AccessLog

if TYPE_CHECKING:  # playwright is imported by the tests only once they know it is installed
    from playwright.sync_api import BrowserContext, Page, Playwright

# Playwright's own browser download is not used: Debian's chromium, with these flags.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000  # any one browser action: launch, navigation, evaluation, ...


@dataclass
class Browser:
    context: BrowserContext
    page: Page
    agent: str
    log: AccessLog
    version: str

    def fetch(self, path: str) -> dict[str, Any]:
        """``fetch(path)`` in the page (HTTP cache mode "default"), bounded by a timeout."""
        return self.page.evaluate(
            """async ([path, ms]) => {
                const r = await fetch(path, {headers: {Accept: "application/json"}, signal: AbortSignal.timeout(ms)});
                return {status: r.status, body: await r.text(),
                        etag: r.headers.get("etag"), cacheControl: r.headers.get("cache-control"),
                        vary: r.headers.get("vary")};
            }""",
            [path, TIMEOUT_MS],
        )


@contextmanager
def chromium(playwright: Playwright, executable: str, access_log: Path) -> Iterator[Browser]:
    """A fresh Chromium profile (its own temporary user-data dir, so an empty HTTP cache)."""
    agent = f"Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome httpcache-e2e/{uuid.uuid4().hex}"
    with tempfile.TemporaryDirectory(prefix="httpcache-chromium-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            args=CHROMIUM_ARGS,
            headless=True,
            user_agent=agent,
            timeout=TIMEOUT_MS * 2,
        )
        try:
            context.set_default_timeout(TIMEOUT_MS)
            context.set_default_navigation_timeout(TIMEOUT_MS)
            page = context.pages[0] if context.pages else context.new_page()
            version = context.browser.version if context.browser else "?"
            yield Browser(context, page, agent, AccessLog(access_log, agent), version)
        finally:
            context.close()
