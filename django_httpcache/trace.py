"""What the app did for one request, for metrics, headers and the debug-toolbar panel.

Surfaces write into the request's ``Trace`` as they decide (which view, which policy,
what the validators were made of, how long they took, the outcome); readers (metrics,
``Server-Timing``, ``Cache-Status``, the panel) read it once the response is final.
It holds no user data: view names, model labels, tags and timings only (R30).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from .httputil import unwrap

__all__ = ["OUTCOMES", "Trace", "explaining", "of", "peek", "timer"]

#: What a response was, for counting: a rendered 200, a 200 from the response store,
#: a 304, a 412 and a 428.
OUTCOMES = ("full", "stored", "not_modified", "precondition_failed", "precondition_required")

ATTR = "_httpcache_trace"
#: Set on a request (its __dict__) by whoever shows a trace in full (the debug-toolbar
#: panel): only then do surfaces spend time on the human-readable steps.
EXPLAIN = "_httpcache_explain"


@dataclass
class Trace:
    view: str = ""
    #: (policy name, where it came from: "view", "rule 0", "default", ...)
    policy: tuple[str, str] = ("", "none")
    #: "counter", "aggregate", "instance", "values", "body hash" or ""
    mode: str = ""
    #: seconds spent reading versions and building validators
    validator_seconds: float = 0.0
    etag: str | None = None
    #: those observed while rendering (``models`` and ``object``: what the validators cover)
    observed: tuple[str, ...] = ()
    #: one line per precondition step taken, e.g. "If-None-Match matched"
    steps: list[str] = field(default_factory=list)
    #: the reason of a 200 where a 304 was asked for (or of a decision), for people
    reason: str = ""
    outcome: str = ""
    #: response store: "hit", "miss", "stored", "bypass" or ""
    store: str = ""
    #: surrogate keys sent, and purges this request's writes queued
    tags: tuple[str, ...] = ()
    purges: list[str] = field(default_factory=list)
    #: what the validators were built from (a validators.Plan), for the panel's reasons
    plan: Any = None
    extra: dict[str, Any] = field(default_factory=dict)
    _covered: Covered | Callable[[], Covered] = ((), None)

    def step(self, text: str) -> None:
        self.steps.append(text)

    def cover(self, covered: Covered | Callable[[], Covered]) -> None:
        """What the validators cover, or a callable that says it when first asked (a 304
        without surrogate keys, metrics or panel never needs it)."""
        self._covered = covered

    def _cover_now(self) -> Covered:
        covered = self._covered
        if callable(covered):
            covered = self._covered = covered()
        return covered

    @property
    def models(self) -> tuple[str, ...]:
        """Model labels the validators cover."""
        return self._cover_now()[0]

    @property
    def object(self) -> tuple[str, Any] | None:
        """(model label, pk) of a detail's object."""
        return self._cover_now()[1]


#: (model labels, (label, pk) of the instance or None)
Covered = tuple[tuple[str, ...], tuple[str, Any] | None]


def explaining(request: HttpRequest) -> bool:
    """Is a full trace (with steps) being collected for this request?"""
    return EXPLAIN in unwrap(request).__dict__


def of(request: HttpRequest) -> Trace:
    """The request's trace (created on first use)."""
    request = unwrap(request)
    found: Trace | None = request.__dict__.get(ATTR)
    if found is None:
        found = request.__dict__[ATTR] = Trace()
    return found


def peek(request: HttpRequest) -> Trace | None:
    """The request's trace if a surface wrote one."""
    found: Trace | None = unwrap(request).__dict__.get(ATTR)
    return found


class timer:  # a context manager, named like a function
    """``with timer(trace): ...`` adds the block's duration to validator_seconds."""

    __slots__ = ("start", "trace")

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.start = 0.0

    def __enter__(self) -> Trace:
        self.start = time.perf_counter()
        return self.trace

    def __exit__(self, *exc: object) -> None:
        self.trace.validator_seconds += time.perf_counter() - self.start
