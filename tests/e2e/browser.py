"""Debian's Chromium driven by Playwright, and gunicorn's access log as the witness.

A browser answers a 304 from its own cache and reports it to the page (and to
Playwright) as the cached 200, and a cache hit never reaches the server at all: what
the server saw is only in its access log. Every browser here gets a user agent of its
own, so the log lines it caused are told apart from everything else's.
"""

from __future__ import annotations

import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

# gunicorn's default access log format: h l u t "r" s b "f" "a"
LINE = re.compile(
    r'^\S+ \S+ \S+ \[[^\]]*\] "(?P<method>\S+) (?P<target>\S+) [^"]*" (?P<status>\d{3}) \S+'
    r' "[^"]*" "(?P<agent>[^"]*)"$'
)


@dataclass(frozen=True)
class Hit:
    method: str
    target: str
    status: int


class AccessLog:
    """The lines one user agent caused in gunicorn's access log."""

    def __init__(self, path: Path, agent: str) -> None:
        self.path = path
        self.agent = agent

    def hits(self) -> list[Hit]:
        text = self.path.read_text() if self.path.exists() else ""
        out = []
        for line in text.splitlines():
            match = LINE.match(line)
            if match and match["agent"] == self.agent:
                out.append(Hit(match["method"], match["target"], int(match["status"])))
        return out

    def of(self, target: str) -> list[int]:
        """Statuses of the GETs of ``target``, in log order."""
        return [hit.status for hit in self.hits() if hit.method == "GET" and hit.target == target]

    def settled(self, target: str, count: int, timeout: float = 10.0, quiet: float = 0.5) -> list[int]:
        """Statuses of ``target`` once ``count`` of them are logged and no more follow for ``quiet`` s.

        gunicorn writes a line just after it sent the response, so a line may trail the
        browser's load event by a moment: wait for the expected ones, then a little more so
        an unexpected extra one is seen too.
        """
        deadline = time.monotonic() + timeout
        while len(self.of(target)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(quiet)
        return self.of(target)


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
