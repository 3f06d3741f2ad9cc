"""What a representation is built from: observed, not declared (R26).

While a conditional view renders a 200, every SQL statement it runs (ORM or raw) is
read for the tables it names; each table maps to the model whose changes the app
records. The set is remembered per view, in the process and in the shared version
store, and the versions of every model in it go into the validators of later
requests, read before the data (R25). A response whose set grew while it rendered
gets no model validator (the middleware's body hash may still give it one, which is
exact by construction); from then on every answer covers what the view reads.

Declared ``dependencies`` stay the explicit form; both are merged.

Observation costs nothing on a 304: it runs only while a 200 renders.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models.signals import class_prepared
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import cc_delim_re

from . import versions

__all__ = ["Known", "Observation", "Render", "known", "learn", "merged", "observing"]

logger = logging.getLogger("django_httpcache")

ModelType = type[models.Model]

# Reads of these apps' tables need no version: who asks is handled by the privacy rules
# and the variant key (a private policy folds the user in), not by model versions.
IGNORED_APPS = frozenset({"auth", "authtoken", "contenttypes", "sessions", "django_httpcache", "admin"})

_current: ContextVar[Observation | None] = ContextVar("httpcache_observation", default=None)


# -- tables -> models ------------------------------------------------------------------


@functools.cache
def _table_models() -> tuple[dict[str, tuple[ModelType, ...]], re.Pattern[str] | None]:
    """Every table of the project, lowercased, and the models its rows belong to.

    An auto-created many-to-many table belongs to both ends: a change to it records
    both (versions.recording), so either end's version covers it.
    """
    mapping: dict[str, tuple[ModelType, ...]] = {}
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or (not meta.managed and not meta.db_table):
            continue
        if meta.auto_created:
            ends = tuple(
                versions.concrete(f.related_model)  # type: ignore[arg-type]
                for f in meta.fields
                if f.is_relation and f.related_model is not None
            )
            mapping[meta.db_table.lower()] = ends
        else:
            mapping[meta.db_table.lower()] = (model,)
    if not mapping:
        return mapping, None
    names = sorted(mapping, key=len, reverse=True)
    # Quoted ("t", `t`, [t]) or bare, as raw SQL may name it; not part of a longer name.
    pattern = re.compile(r"(?<![\w$])(" + "|".join(map(re.escape, names)) + r")(?![\w$])", re.IGNORECASE)
    return mapping, pattern


def _forget_tables(**kwargs: Any) -> None:
    _table_models.cache_clear()
    _tables_in.cache_clear()


class_prepared.connect(_forget_tables, weak=False, dispatch_uid="httpcache:dependency-tables")


@functools.lru_cache(maxsize=2048)
def _tables_in(sql: str) -> frozenset[str]:
    _, pattern = _table_models()
    if pattern is None:
        return frozenset()
    return frozenset(name.lower() for name in pattern.findall(sql))


# -- observing -------------------------------------------------------------------------


@functools.cache
def _by_unique(model: ModelType) -> re.Pattern[str]:
    """``WHERE "table"."column" = %s [LIMIT n]``: a read of one row by a unique column,
    nothing else narrowing or widening it."""
    meta = model._meta
    q = r'["`\[]?'
    table = re.escape(meta.db_table)
    return re.compile(rf"\sWHERE\s+{q}{table}{q}\s*\.\s*{q}(\w+){q}\s*=\s*%s(?:\s+LIMIT\s+\d+)?\s*$", re.IGNORECASE)


@dataclass
class Row:
    """The object of a detail, whose own row version covers reads of that one row
    (by its primary key or another unique column). Its reads may be seen before the
    object is loaded (DRF's get_object() is observed too): they are judged once it is."""

    model: ModelType
    obj: models.Model | None = None

    def is_this_row(self, sql: str, params: Any) -> bool | None:
        """True or False; None while the object is not loaded yet."""
        match = _by_unique(self.model).search(sql)
        if match is None:
            return False
        try:
            field = next(f for f in self.model._meta.concrete_fields if f.column == match.group(1))
        except StopIteration:
            return False
        if not (field.primary_key or field.unique):
            return False
        if self.obj is None:
            return None
        value = getattr(self.obj, field.attname)
        values = params.values() if isinstance(params, dict) else (params or ())
        return any(v == value or str(v) == str(value) for v in values)


@dataclass
class Observation:
    """The models whose tables one render read."""

    row: Row | None = None
    models: set[ModelType] = field(default_factory=set)
    deferred: list[tuple[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def saw(self, sql: str, params: Any) -> None:
        tables = _tables_in(sql)
        if not tables:
            return
        mapping, _ = _table_models()
        found: set[ModelType] = set()
        for table in tables:
            found.update(mapping.get(table, ()))
        row = self.row
        if row is not None and row.model in found and self._own_table_once(row.model, tables, mapping):
            verdict = row.is_this_row(sql, params)
            if verdict is None:
                with self._lock:
                    self.deferred.append((sql, params))
                found.discard(row.model)
            elif verdict:
                found.discard(row.model)
        if not found <= self.models:
            with self._lock:  # async views run queries in worker threads
                self.models |= found

    @staticmethod
    def _own_table_once(model: ModelType, tables: frozenset[str], mapping: dict[str, tuple[ModelType, ...]]) -> bool:
        return sum(1 for t in tables if model in mapping.get(t, ()) and len(mapping[t]) == 1) == 1

    def read_models(self) -> set[ModelType]:
        """What the render read, with the reads seen before its object was loaded judged."""
        row, found = self.row, set(self.models)
        if row is not None and any(row.is_this_row(sql, params) is not True for sql, params in self.deferred):
            found.add(row.model)
        return found


def _execute(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    observation = _current.get()
    if observation is not None and isinstance(sql, str):
        observation.saw(sql, params)
    return execute(sql, params, many, context)


def install(connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """Put the observer on a connection, once. First in the list, so that a user's
    ``execute_wrapper()`` block, which pops the last wrapper, leaves it alone."""
    if _execute not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _execute)


def connect_observer() -> None:
    """Called from AppConfig.ready(): every connection, now and later, is observed."""
    from django.db import connections

    connection_created.connect(install, weak=False, dispatch_uid="httpcache:observer")
    for connection in connections.all(initialized_only=True):
        install(connection)


def start(row: Row | None = None) -> tuple[Observation, Token[Observation | None]]:
    observation = Observation(row=row)
    return observation, _current.set(observation)


def stop(token: Token[Observation | None]) -> None:
    try:
        _current.reset(token)
    except ValueError:  # reset from another context (an async view's thread): leave it
        _current.set(None)


@contextmanager
def observing(row: Row | None = None) -> Iterator[Observation]:
    """Record the tables the block reads (for tests and custom surfaces)."""
    observation, token = start(row)
    try:
        yield observation
    finally:
        stop(token)


# -- what each view depends on ------------------------------------------------------------

KEY_PREFIX = "httpcache:deps:"


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
        found = []
        for name in sorted(self.labels):
            try:
                found.append(versions.concrete(apps.get_model(name)))
            except (LookupError, ValueError):
                continue  # a model removed since it was observed
        return found

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
_warned: set[tuple[str, str]] = set()


def _shared() -> Any:
    store = versions.writable_store()
    return store.cache if store is not None else None


def _read_shared(view: str) -> Known | None:
    cache = _shared()
    if cache is None:
        return None
    try:
        return Known.from_json(cache.get(KEY_PREFIX + view))
    except Exception:  # the store's own reads log outages; this costs a spare 200 at most
        return None


def known(view: str) -> Known:
    """What ``view`` reads and varies on, as far as this process or any other has seen."""
    found = _known.get(view)
    if found is None:
        found = _read_shared(view) or Known(seen=False)
        with _known_lock:
            found = _known.setdefault(view, found)
    return found


def learn(view: str, labels: Iterable[str] = (), vary: Iterable[str] = ()) -> Known:
    """Fold what one response read and varied on into what ``view`` is known to."""
    labels, vary = frozenset(labels), frozenset(map(field_name, vary))
    current = known(view)
    if current.covers(labels, vary):
        return current
    with _known_lock:
        grown = _known.get(view, current).grown(labels, vary)
        _known[view] = grown
    cache = _shared()
    if cache is not None:
        try:
            shared = Known.from_json(cache.get(KEY_PREFIX + view))
            if shared is not None and not grown.covers(shared.labels, shared.vary):
                grown = grown.grown(shared.labels, shared.vary)
                with _known_lock:
                    _known[view] = grown
            cache.set(KEY_PREFIX + view, grown.as_json(), None)
        except Exception:
            logger.debug("Could not share what %s depends on.", view, exc_info=True)
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
        if (view, name) not in _warned:
            _warned.add((view, name))
            logger.warning(
                "View %s reads %s, which is not tracked: its responses get no model validator "
                "(give the model a VersionedManager or call django_httpcache.versions.track()).",
                view,
                name,
            )
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
    _warned.clear()


def merged(view: str | None, declared: Iterable[ModelType | str] = ()) -> list[ModelType]:
    """Declared and observed dependencies of ``view``, each once, in a stable order."""
    found = {versions.concrete(versions.model_of(m)) for m in declared}
    if view is not None:
        found.update(known(view).models())
    return sorted(found, key=versions.label)


def field_name(name: str) -> str:
    """A header name as headers are usually written (``accept-language``: ``Accept-Language``)."""
    return "-".join(part.capitalize() for part in name.strip().split("-"))


def response_vary(response: HttpResponseBase) -> frozenset[str]:
    if not response.has_header("Vary"):
        return frozenset()
    return frozenset(field_name(v) for v in cc_delim_re.split(response.headers["Vary"]) if v and v != "*")


# -- one render, from the decision to the response -------------------------------------------

RENDER_ATTR = "_httpcache_render"


class Render:
    """The observation of one 2xx: started after the decision, finished with the response.

    The surface finishes it with the response it sees; the middleware, with the final
    response (after SessionMiddleware may have added ``Vary: Cookie``), again.
    """

    __slots__ = ("covered", "observation", "token", "view")
    token: Token[Observation | None] | None

    def __init__(self, request: HttpRequest, view: str, row: Row | None = None, *, observe: bool = True) -> None:
        self.view = view
        self.observation, self.token = start(row) if observe else (Observation(), None)
        self.covered = True
        request.__dict__[RENDER_ATTR] = self

    def stop(self) -> None:
        if self.token is not None:
            stop(self.token)
            self.token = None

    def finish(self, response: HttpResponseBase) -> Known | None:
        """Stop observing and learn: what the view is now known to read and vary on, or
        None when this render read an untracked model (no version covers it)."""
        self.stop()
        labels, untracked = tracked_labels(self.view, self.observation)
        found = learn(self.view, labels, response_vary(response))
        self.covered = self.covered and not untracked
        return found if self.covered else None


def render_of(request: HttpRequest) -> Render | None:
    found: Render | None = request.__dict__.get(RENDER_ATTR)
    return found
