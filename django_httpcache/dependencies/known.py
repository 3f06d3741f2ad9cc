"""What each view is known to read and vary on, in the process and in the database.

Learned from observed renders; shared through the ``ObservedView`` table, which every
process can read (unlike a per-process cache), so that a worker that never rendered a
view still computes the tag another worker handed out (a write's If-Match must not
fail on a valid tag). Read once per view and process, written when the set grows.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.apps import apps
from django.db import router, transaction
from django.http.response import HttpResponseBase

from .. import versions
from ..httputil import forget_logged, header_values, log_once
from .observing import IGNORED_APPS, ModelType, Observation

__all__ = ["Known", "field_name", "forget", "known", "learn", "merged", "refresh", "response_vary", "shared_known"]

logger = logging.getLogger("django_httpcache")


@dataclass(frozen=True)
class Known:
    """What a view has been seen to read (tracked models, by label) and to vary on
    (request header names), and when each was first seen."""

    labels: frozenset[str] = frozenset()
    vary: frozenset[str] = frozenset()
    observed_at: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    #: False until a render of the view was observed (here or in another process).
    seen: bool = True

    def models(self) -> list[ModelType]:
        return list(self._models)

    @cached_property
    def _models(self) -> tuple[ModelType, ...]:
        # Looked up once per Known (a new one replaces it when a view learns more).
        found = []
        for name in sorted(self.labels):
            try:
                found.append(versions.concrete(apps.get_model(name)))
            except (LookupError, ValueError):
                continue  # a model removed since it was observed
        return tuple(found)

    @cached_property
    def _merged(self) -> dict[tuple[Any, ...], tuple[ModelType, ...]]:
        # merged() of this Known, per declared tuple: asked on every request.
        return {}

    def covers(self, labels: frozenset[str], vary: frozenset[str]) -> bool:
        return self.seen and labels <= self.labels and vary <= self.vary

    def grown(self, labels: frozenset[str], vary: frozenset[str]) -> Known:
        now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        new = (labels - self.labels) | {f"vary:{name}" for name in vary - self.vary}
        stamps = {**dict.fromkeys(new, now), **self.observed_at}
        return Known(self.labels | labels, self.vary | vary, stamps, seen=True)

    def as_json(self) -> dict[str, Any]:
        return {"labels": sorted(self.labels), "vary": sorted(self.vary), "observed_at": self.observed_at}

    @classmethod
    def from_json(cls, value: Any) -> Known | None:
        if not isinstance(value, dict) or not isinstance(value.get("labels"), list):
            return None
        vary: list[Any] = value["vary"] if isinstance(value.get("vary"), list) else []
        stamps: dict[str, str] = value["observed_at"] if isinstance(value.get("observed_at"), dict) else {}
        return cls(frozenset(map(str, value["labels"])), frozenset(map(str, vary)), dict(stamps), seen=True)


_known: dict[str, Known] = {}
_known_lock = threading.Lock()


def _table() -> Any:
    from ..models import ObservedView

    return ObservedView


def _in_event_loop() -> bool:
    """Async code (an async middleware pass) must not query: it learns locally."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _read_shared(view: str) -> Known | None:
    if _in_event_loop():
        return None
    table = _table()
    try:
        row = table.objects.using(router.db_for_read(table)).filter(view=view[:255]).first()
    except Exception:  # not migrated yet, the database away or not allowed: learn locally
        return None
    return None if row is None else Known.from_json(json.loads(row.known))


def _write_shared(view: str, found: Known) -> Known:
    """Merge ``found`` into the shared copy (another process may have learned more)."""
    if _in_event_loop():
        return found
    table = _table()
    db = router.db_for_write(table)
    try:
        with transaction.atomic(using=db):
            rows = table.objects.using(db).select_for_update().filter(view=view[:255])
            row = rows.first()
            shared = None if row is None else Known.from_json(json.loads(row.known))
            if shared is not None:
                found = found.grown(shared.labels, shared.vary)
                found = Known(found.labels, found.vary, {**found.observed_at, **shared.observed_at}, seen=True)
            value = json.dumps(found.as_json(), sort_keys=True)
            if row is None:
                table.objects.using(db).create(view=view[:255], known=value)
            elif row.known != value:
                rows.update(known=value)
    except Exception:  # the same: what this process learned still holds here
        logger.debug("Could not share what %s depends on.", view, exc_info=True)
    return found


def known(view: str) -> Known:
    """What ``view`` reads and varies on, as far as this process or any other has seen.

    The shared copy is read once per view and process; what this process renders it
    learns itself, and refresh() catches up with the others before a 412.
    """
    found = _known.get(view)
    if found is None:  # once per view and process (refresh() reads it again)
        found = _read_shared(view) or Known(seen=False)
        with _known_lock:
            _known[view] = found
    return found


def refresh(view: str) -> bool:
    """Re-read the shared copy; True when it knew more than this process (before
    answering 412: the client's tag may come from a process that learned more)."""
    shared = _read_shared(view)
    with _known_lock:
        current = _known.get(view) or Known(seen=False)
        if shared is None or current.covers(shared.labels, shared.vary):
            return False
        _known[view] = current.grown(shared.labels, shared.vary)
    return True


def learn(view: str, labels: Iterable[str] = (), vary: Iterable[str] = ()) -> Known:
    """Fold what one response read and varied on into what ``view`` is known to."""
    labels, vary = frozenset(labels), frozenset(map(field_name, vary))
    current = known(view)
    if current.covers(labels, vary):
        return current
    grown = _write_shared(view, current.grown(labels, vary))
    with _known_lock:
        _known[view] = grown
    return grown


def tracked_labels(view: str, observation: Observation) -> tuple[frozenset[str], list[str]]:
    """The labels of the tracked models an observation saw, and of the untracked ones
    (which no version covers: their reads leave the response without a validator)."""
    read = observation.read_models()
    tracked = {m for m in read if versions.is_tracked(m)}
    untracked = sorted(
        versions.label(m) for m in read - tracked if m._meta.app_label not in IGNORED_APPS and not m._meta.auto_created
    )
    for name in untracked:
        message = (
            "View %s reads %s, which is not tracked: its responses get no model validator "
            "(give the model a VersionedManager or call django_httpcache.versions.track())."
        )
        log_once(logging.WARNING, f"reads-untracked:{view}:{name}", message, view, name)
    return frozenset(versions.label(m) for m in tracked), untracked


def everything_known() -> dict[str, Known]:
    """Every view's known dependencies in this process (for the report)."""
    return dict(_known)


def shared_known(view: str) -> Known | None:
    """What the version store holds for ``view`` (the report runs in its own process)."""
    return _read_shared(view)


def forget() -> None:
    """Forget every view's dependencies in this process (tests)."""
    with _known_lock:
        _known.clear()
    forget_logged("reads-untracked:")


def merged(view: str | None, declared: Iterable[ModelType | str] = ()) -> tuple[ModelType, ...]:
    """Declared and observed dependencies of ``view``, each once, in a stable order."""
    declared = tuple(declared)
    current = known(view) if view is not None else None
    memo = current._merged if current is not None else {}
    found = memo.get(declared)
    if found is None:
        models_ = {versions.concrete(versions.model_of(m)) for m in declared}
        models_.update(current._models if current is not None else ())
        found = memo[declared] = tuple(sorted(models_, key=versions.label))
    return found


def field_name(name: str) -> str:
    """A header name as headers are usually written (``accept-language``: ``Accept-Language``)."""
    return "-".join(part.capitalize() for part in name.strip().split("-"))


def response_vary(response: HttpResponseBase) -> frozenset[str]:
    if not response.has_header("Vary"):
        return frozenset()
    return frozenset(field_name(v) for v in header_values(response.headers["Vary"]) if v != "*")
