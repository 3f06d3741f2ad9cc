"""In-process harness: requests through Django's WSGI handler, no network, low noise."""

from __future__ import annotations

import gc
import io
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.core.handlers.wsgi import WSGIHandler
from django.test import override_settings

OUR_MIDDLEWARE = "django_httpcache.middleware.HttpCacheMiddleware"
#: BENCH_ROUNDS and BENCH_BUDGET (seconds per variant per round) when not set.
DEFAULT_ROUNDS, DEFAULT_BUDGET = 5, 0.3
CONDITIONAL_GET = "django.middleware.http.ConditionalGetMiddleware"


@dataclass
class Result:
    """Per-call wall time in microseconds over ``n`` calls."""

    median: float
    minimum: float
    maximum: float
    n: int
    status: int


def summarize(samples: list[float], status: int) -> Result:
    return Result(statistics.median(samples), min(samples), max(samples), len(samples), status)


def handler(middleware: list[str]) -> WSGIHandler:
    """A WSGI handler with its own middleware stack (loaded once, at construction)."""
    with override_settings(MIDDLEWARE=middleware):
        return WSGIHandler()


def environ(path: str, headers: Mapping[str, str]) -> dict[str, object]:
    route, _, query = path.partition("?")
    env: dict[str, object] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1",
        "HTTP_ACCEPT": "application/json",
        "wsgi.url_scheme": "http",
    }
    for name, value in headers.items():
        env["HTTP_" + name.upper().replace("-", "_")] = value
    return env


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


def call(app: WSGIHandler, path: str, headers: Mapping[str, str] | None = None) -> Reply:
    """One request, body fully read and closed (as a server would)."""
    env = environ(path, headers or {})
    env["wsgi.input"] = io.BytesIO(b"")
    captured: dict[str, object] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: object = None) -> None:
        captured["status"] = int(status.split()[0])
        captured["headers"] = dict(response_headers)

    result = app(env, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return Reply(captured["status"], captured["headers"], body)  # type: ignore[arg-type]


def timed(
    app: WSGIHandler,
    path: str,
    headers: Mapping[str, str] | None = None,
    *,
    budget: float,
    min_calls: int = 5,
    max_calls: int = 20_000,
    expect: int | None = None,
) -> tuple[list[float], int]:
    """Per-call times (µs) for about ``budget`` seconds, bounded in count."""
    headers = dict(headers or {})
    first = call(app, path, headers)
    if expect is not None and first.status != expect:
        raise AssertionError(f"{path} {headers}: expected {expect}, got {first.status}")
    start = time.perf_counter()
    call(app, path, headers)
    estimate = max(time.perf_counter() - start, 1e-6)
    calls = int(min(max(budget / estimate, min_calls), max_calls))
    samples = []
    clock = time.perf_counter
    for _ in range(calls):
        begin = clock()
        call(app, path, headers)
        samples.append((clock() - begin) * 1e6)
    return samples, first.status


class Rounds:
    """Interleave the variants over a few rounds, so drift hits them all alike."""

    def __init__(self, rounds: int) -> None:
        self.rounds = rounds
        self.samples: dict[str, list[float]] = {}
        self.status: dict[str, int] = {}

    def run(self, variants: Mapping[str, Callable[[], tuple[list[float], int]]]) -> dict[str, Result]:
        for _ in range(self.rounds):
            for name, measure in variants.items():
                # Garbage left by a big 200 would otherwise be collected inside the next
                # variant's timing (gen-2 collections cost more after 10,000 rows).
                gc.collect()
                samples, status = measure()
                self.samples.setdefault(name, []).extend(samples)
                self.status[name] = status
        return {name: summarize(self.samples[name], self.status[name]) for name in variants}
