"""Versions of whole models, for collection and dependency validators (R24).

``model_versions()`` reads them in one of two modes: counter tokens from the version
store (no query), or one aggregate statement over the database (COUNT and
MAX(updated-at) of a queryset and of each dependency, and the models' change stamps).
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connections, models, router
from django.db.models import Count, Max, Value
from django.utils.dateparse import parse_datetime

from ..conf import conf
from ..httputil import epoch_seconds
from . import store
from .registry import concrete, label, row_fields
from .shapes import compiled_rows

__all__ = ["Version", "latest", "model_versions", "read", "stamp_time"]

logger = logging.getLogger("django_httpcache")


class Version(NamedTuple):
    """The version of one model (or of one collection): values that change with its
    data, and when it last changed (seconds since the epoch, or None if unknown)."""

    values: tuple[Any, ...]
    modified: float | None = None


def read(
    models_: Sequence[type[models.Model]], mode: str | None, *, queryset: models.QuerySet[Any] | None = None
) -> tuple[Version | None, dict[str, Version]]:
    """The versions of whole models, per model label, and with ``queryset`` the version of
    that collection: counter tokens from the version store (no query), or (fallback, or
    ``mode="aggregate"``) one aggregate statement.

    In counter mode a collection's version is its model's token; in aggregate mode its
    filters and slices hold (COUNT and MAX over it as a derived table, its SQL part of
    the values).
    """
    deps = _sorted_models(tuple(models_))
    if queryset is None and not deps:
        return None, {}
    if queryset is not None:
        if queryset.query.is_empty():  # .none(): empty whatever the data
            return Version(("empty",)), read(deps, mode)[1]
        if queryset.query.combinator:
            # union() & co.: no derived table to aggregate over; the versions of every
            # model involved cover it, at the cost of precision.
            involved = sorted({concrete(q.model) for q in queryset.query.combined_queries}, key=label)
            found = read([*deps, *involved], mode)[1]
            parts = [found[label(m)] for m in involved]
            values = tuple(v for m, part in zip(involved, parts, strict=True) for v in (label(m), *part.values))
            return Version(("combined", *values), latest(*(p.modified for p in parts))), found
    owners = deps if queryset is None else (concrete(queryset.model), *deps)
    tokens = _counter_tokens(owners, mode)
    if tokens is not None:
        names = _labels(owners)
        found = {name: Version(("counter", t), store.token_time(t)) for name, t in zip(names, tokens, strict=True)}
        collection = None if queryset is None else found[names[0]]
        return collection, {name: found[name] for name in names[0 if queryset is None else 1 :]}
    if queryset is not None and not queryset.query.is_sliced:
        queryset = queryset.order_by()
    if len(deps) > MODELS_PER_STATEMENT:
        # Before a view's first render every tracked model is read: keep each statement
        # well under the databases' column limits (SQLite: 2,000).
        collection, found = read(deps[:MODELS_PER_STATEMENT], mode, queryset=queryset)
        return collection, {**found, **read(deps[MODELS_PER_STATEMENT:], mode)[1]}
    try:
        return _aggregate(queryset, deps)
    except EmptyResultSet:  # filter(pk__in=[]) and the like: nothing can match
        return Version(("empty",)), read(deps, mode)[1]


MODELS_PER_STATEMENT = 100  # four columns each


@functools.lru_cache(maxsize=1024)
def _sorted_models(models_: tuple[type[models.Model], ...]) -> tuple[type[models.Model], ...]:
    # Every request of a view asks for the same few models: sort them once.
    return tuple(sorted({concrete(m) for m in models_}, key=label))


@functools.lru_cache(maxsize=1024)
def _labels(models_: tuple[type[models.Model], ...]) -> tuple[str, ...]:
    return tuple(map(label, models_))


def model_versions(
    models_: Sequence[type[models.Model]], mode: str | None, *, queryset: models.QuerySet[Any] | None = None
) -> tuple[list[Any], Any]:
    """``(values for a tag, latest modification)`` of these models (and ``queryset``)."""
    collection, found = read(models_, mode, queryset=queryset)
    parts = ([collection] if collection is not None else []) + [found[k] for k in sorted(found)]
    return [v for part in parts for v in part.values], latest(*(p.modified for p in parts))


def stamp_time(value: Any) -> Any:
    """Datetimes at microsecond precision, whatever their timezone."""
    if isinstance(value, datetime.datetime):
        return epoch_seconds(value)
    return value


def latest(*moments: Any) -> Any:
    stamps = [stamp_time(m) for m in moments if m is not None]
    return max(stamps) if stamps else None


def _counter_tokens(models_: Sequence[type[models.Model]], mode: str | None) -> list[str] | None:
    # A view may opt out of counter mode, not into it: the project's mode decides
    # whether the store is read at all.
    if mode == "aggregate" or conf.VERSION_MODE != "counter":
        return None
    counter = store.counter_store()
    if counter is None:
        return None
    try:
        return counter.tokens(_labels(tuple(models_)))
    except store.StoreError as exc:
        # The store logs the outage once; this is per request.
        logger.debug("%s; using aggregate mode for this request.", exc)
        return None


_compiled: dict[tuple[Any, ...], tuple[list[str], str, tuple[Any, ...]]] = {}


def _scalar_sql(queryset: models.QuerySet[Any], aggregate: Any) -> tuple[str, tuple[Any, ...]]:
    grouped = queryset.order_by().annotate(_one=Value(1)).values("_one")
    sql, params = grouped.annotate(_value=aggregate).values("_value").query.sql_with_params()
    return f"({sql})", tuple(params)


def _model_columns(db: str, model: type[models.Model], *, rows: bool) -> tuple[list[str], str, tuple[Any, ...]]:
    """``(column names, sql, params)`` of one model's scalar subqueries: its change stamp
    (serial, time) and, with ``rows``, COUNT and MAX(updated-at) over its table.

    Their SQL depends only on the model, so it is built once (by the ORM, for the right
    quoting) and reused: compiling nested subqueries per request costs more than
    running them.
    """
    from ..models import ModelStamp

    updated = row_fields(model)[1]
    key = (db, label(model), rows, updated.name if updated is not None else None)
    compiled = _compiled.get(key)
    if compiled is None:
        stamp = ModelStamp.objects.using(db).filter(label=label(model))
        parts = {"serial": _scalar_sql(stamp, Max("serial")), "changed": _scalar_sql(stamp, Max("changed_at"))}
        table = model._base_manager.using(db).all()
        if rows:
            parts["count"] = _scalar_sql(table, Count("pk"))
        if updated is not None:
            # With rows: part of the version. Without (a collection's own model): for
            # Last-Modified only, since a save that moves a row out of a filtered set
            # leaves that set's own MAX behind (the COUNT catches it for the ETag).
            parts["max" if rows else "table_max"] = _scalar_sql(table, Max(updated.name))
        params = tuple(p for _, part_params in parts.values() for p in part_params)
        compiled = _compiled[key] = (list(parts), ", ".join(sql for sql, _ in parts.values()), params)
    return compiled


TIMES = frozenset({"m", "changed", "max", "table_max"})  # the columns that say when


def _aggregate(
    queryset: models.QuerySet[Any] | None, deps: Sequence[type[models.Model]]
) -> tuple[Version | None, dict[str, Version]]:
    """One statement: the collection's version and each model's.

    ``SELECT (SELECT COUNT(*) FROM (<queryset>) t), (SELECT MAX(t.updated_at) FROM
    (<queryset>) t), <stamp of its model>, then per model <stamp>, COUNT, MAX``. Each
    aggregate is its own scalar subquery because databases answer a lone COUNT(*) or
    MAX(indexed column) without scanning rows (SQLite: ~20 µs instead of ~1.2 ms for
    10,000 rows), and the queryset as a derived table keeps its filters and slices.
    Its SQL and parameters are part of the collection's values: the query fingerprint.
    """
    db = queryset.db if queryset is not None else router.db_for_read(deps[0])
    connection = connections[db]
    select: list[str] = []
    params: list[Any] = []
    groups: list[tuple[str, list[str]]] = []  # (label or "", column names), in select order
    fingerprint: list[Any] = []
    if queryset is not None:
        model = concrete(queryset.model)
        updated = row_fields(model)[1]
        names = [model._meta.pk.attname] + ([updated.attname] if updated is not None else [])
        inner, inner_params = compiled_rows(queryset, names)
        columns = ["n"]
        select.append(f"(SELECT COUNT(*) FROM ({inner}) t)")
        params.extend(inner_params)
        if updated is not None:
            select.append(f"(SELECT MAX(t.{connection.ops.quote_name(updated.attname)}) FROM ({inner}) t)")
            columns.append("m")
            params.extend(inner_params)
        own, sql, own_params = _model_columns(db, model, rows=False)
        select.append(sql)
        params.extend(own_params)
        groups.append(("", columns + own))
        fingerprint = [inner, *map(str, inner_params)]
    for dep in deps:
        names_, sql, dep_params = _model_columns(db, dep, rows=True)
        select.append(sql)
        params.extend(dep_params)
        groups.append((label(dep), names_))
    sql = f"SELECT {', '.join(select)}{connection.features.bare_select_suffix}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = list(cursor.fetchone())
    collection: Version | None = None
    found: dict[str, Version] = {}
    for key, columns in groups:
        values = dict(zip(columns, row[: len(columns)], strict=True))
        del row[: len(columns)]
        modified = latest(*(_as_datetime(values[c]) for c in columns if c in TIMES))
        kept = tuple(values[c] for c in columns if c != "table_max")  # elsewhere in the table: not this set
        if key:
            found[key] = Version(("aggregate", *kept), modified)
        else:
            collection = Version(("aggregate", *fingerprint, *kept), modified)
    return collection, found


def _as_datetime(value: Any) -> datetime.datetime | None:
    """MAX() of a datetime column, as the database driver returns it (SQLite: text)."""
    if value is None or isinstance(value, datetime.datetime):
        return value
    return parse_datetime(str(value))  # naive: read by epoch_seconds() in the right zone
