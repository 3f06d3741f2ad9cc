"""A local stand-in for a provider's purge API: it checks each request as documented."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Answer = tuple[int, dict[str, str], bytes]


@dataclass
class FakeAPI:
    """``check(seen)`` returns what is wrong with a request (answered 400, as the provider
    would), else the next queued answer, else ``success``."""

    check: Callable[[Seen], str | None]
    success: Answer
    url: str = ""
    seen: list[Seen] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)

    def answer(self, status: int, body: bytes | str = b"", **headers: str) -> None:
        """Queue one answer for the next request."""
        data = body.encode() if isinstance(body, str) else body
        self.answers.append((status, {k.replace("_", "-"): v for k, v in headers.items()}, data))

    def reply_to(self, seen: Seen) -> Answer:
        self.seen.append(seen)
        complaint = self.check(seen)
        if complaint:
            return 400, {"Content-Type": "text/plain"}, complaint.encode()
        return self.answers.pop(0) if self.answers else self.success


def _handler(api: FakeAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, data = api.reply_to(Seen(self.command, self.path, self.headers, body))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_PURGE = do_BAN = do_GET = _handle

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def fake_api(monkeypatch) -> Iterator[Callable[..., FakeAPI]]:
    """Start FakeAPI servers on free local ports; stopped after the test."""
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")  # never route the test through a proxy
    servers: list[ThreadingHTTPServer] = []

    def start(check: Callable[[Seen], str | None], success: Answer) -> FakeAPI:
        api = FakeAPI(check, success)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
        api.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
        servers.append(server)
        return api

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
