"""Observing the SQL a render runs: which tracked models' tables it reads (R26).

An execute_wrapper on every connection hands each statement (ORM or raw) to the
observation of the current context; a table maps to the model whose changes the app
records. It costs nothing on a 304: observations run only while a 200 renders.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models.signals import class_prepared

from .. import versions

__all__ = ["IGNORED_APPS", "Observation", "Row", "connect_observer", "install", "observing", "start", "stop"]

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
        row = self.row
        for table in tables:
            ends = mapping.get(table, ())
            if row is not None and len(ends) > 1 and row.model in ends:
                # The object's own many-to-many rows: a change to them moves its row's
                # version and records the other end, whose version covers the rest.
                ends = tuple(m for m in ends if m is not row.model)
            found.update(ends)
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
