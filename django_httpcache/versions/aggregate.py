"""Versions of whole models, for collection and dependency validators (R24).

``model_versions()`` reads them in one of two modes: counter tokens from the version
store (no query), or one aggregate statement over the database (COUNT and
MAX(updated-at) of a queryset and of each dependency, and the models' change stamps).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router
from django.db.models import Count, Max, Sum, Value
from django.utils.dateparse import parse_datetime

from ..conf import conf
from . import store
from .registry import concrete, label, row_fields

__all__ = ["latest", "model_versions", "stamp_time"]

logger = logging.getLogger("django_httpcache")


def model_versions(
    models_: Sequence[type[models.Model]], mode: str | None, *, queryset: models.QuerySet[Any] | None = None
) -> tuple[list[Any], Any]:
    """``(values for the tag, latest modification)`` of whole models: counter tokens,
    or (fallback, or ``mode="aggregate"``) the one aggregate statement.

    With ``queryset``, of that collection first (its filters and slices hold in
    aggregate mode; in counter mode its model's token stands for it), then ``models_``.
    """
    owners = list(models_) if queryset is None else [concrete(queryset.model), *models_]
    tokens = _counter_tokens(owners, mode)
    if tokens is not None:
        return ["counter", *tokens], latest(*(store.token_time(t) for t in tokens))
    if queryset is not None and not queryset.query.is_sliced:
        queryset = queryset.order_by()
    values, modified = _aggregate(queryset, models_)
    return ["aggregate", *values], modified


def stamp_time(value: Any) -> Any:
    """Datetimes at microsecond precision, whatever their timezone."""
    if isinstance(value, datetime.datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc).timestamp()
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
        return counter.tokens([label(m) for m in models_])
    except store.StoreError as exc:
        # The store logs the outage once; this is per request.
        logger.debug("%s; using aggregate mode for this request.", exc)
        return None


_compiled: dict[tuple[Any, ...], tuple[list[str], list[str], tuple[Any, ...]]] = {}


def _scalar_sql(queryset: models.QuerySet[Any], aggregate: Any) -> tuple[str, tuple[Any, ...]]:
    grouped = queryset.order_by().annotate(_one=Value(1)).values("_one")
    sql, params = grouped.annotate(_value=aggregate).values("_value").query.sql_with_params()
    return f"({sql})", tuple(params)


def _scalars(
    db: str, owners: Sequence[type[models.Model]], deps: Sequence[type[models.Model]]
) -> tuple[list[str], list[str], tuple[Any, ...]]:
    """``(names, sql fragments, params)`` of the scalar subqueries: the stamps of every
    model involved, and COUNT and MAX(updated-at) over each dependency.

    Their SQL depends only on the models, so it is built once (by the ORM, for the
    right quoting) and reused: compiling nested subqueries per request costs more
    than running them.
    """
    from ..models import ModelStamp

    fields = tuple(f.name if f else None for model in owners for f in row_fields(model)[1:])
    key = (db, tuple(map(label, owners)), tuple(map(label, deps)), fields)
    compiled = _compiled.get(key)
    if compiled is None:
        stamps = ModelStamp.objects.using(db).filter(label__in=[label(m) for m in owners])
        parts = {
            "stamp_serial": _scalar_sql(stamps, Sum("serial")),
            "stamp_changed": _scalar_sql(stamps, Max("changed_at")),
        }
        if owners and owners[0] not in deps:
            _, updated = row_fields(owners[0])
            if updated is not None:
                # For Last-Modified only: a save that moves a row out of a filtered set
                # leaves that set's own MAX behind (the COUNT catches it for the ETag).
                parts["table_m"] = _scalar_sql(owners[0]._base_manager.using(db).all(), Max(updated.name))
        for index, dep in enumerate(deps):
            _, updated = row_fields(dep)
            rows = dep._base_manager.using(db).all()
            parts[f"d{index}n"] = _scalar_sql(rows, Count("pk"))
            if updated is not None:
                parts[f"d{index}m"] = _scalar_sql(rows, Max(updated.name))
        params = tuple(p for _, part_params in parts.values() for p in part_params)
        compiled = _compiled[key] = (list(parts), [sql for sql, _ in parts.values()], params)
    return compiled


def _aggregate(queryset: models.QuerySet[Any] | None, deps: Sequence[type[models.Model]]) -> tuple[list[Any], Any]:
    """One statement: ``(values for the tag, latest modification)``.

    ``SELECT (SELECT COUNT(*) FROM (<queryset>) t), (SELECT MAX(t.updated_at) FROM
    (<queryset>) t), <stamps>, <dependencies>``. Each aggregate is its own scalar
    subquery because databases answer a lone COUNT(*) or MAX(indexed column) without
    scanning rows (SQLite: ~20 µs instead of ~1.2 ms for 10,000 rows), and the
    queryset as a derived table keeps its filters and slices. Its SQL and parameters
    are part of the tag: the query fingerprint.
    """
    owners = list(deps)
    db = queryset.db if queryset is not None else router.db_for_read(deps[0])
    connection = connections[db]
    select: list[str] = []
    columns: list[str] = []
    params: list[Any] = []
    fingerprint: list[Any] = []
    modified_names: list[str] = []
    if queryset is not None:
        model = concrete(queryset.model)
        owners.insert(0, model)
        _, updated = row_fields(model)
        names = [model._meta.pk.attname] + ([updated.attname] if updated is not None else [])
        inner, inner_params = queryset.values(*names).query.sql_with_params()
        select.append(f"(SELECT COUNT(*) FROM ({inner}) t)")
        columns.append("n")
        params.extend(inner_params)
        if updated is not None:
            select.append(f"(SELECT MAX(t.{connection.ops.quote_name(updated.attname)}) FROM ({inner}) t)")
            columns.append("m")
            modified_names.append("m")
            params.extend(inner_params)
        fingerprint = [inner, *map(str, inner_params)]
    names, fragments, scalar_params = _scalars(db, owners, deps)
    select += fragments
    columns += names
    params.extend(scalar_params)
    modified_names += [n for n in names if n in ("stamp_changed", "table_m") or (n.startswith("d") and n.endswith("m"))]
    sql = f"SELECT {', '.join(select)}{connection.features.bare_select_suffix}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    values = dict(zip(columns, row, strict=False))
    modified = latest(*(_as_datetime(values[name]) for name in modified_names))
    values.pop("table_m", None)  # a change elsewhere in the table need not change this tag
    return [*fingerprint, *values.values()], modified


def _as_datetime(value: Any) -> datetime.datetime | None:
    """MAX() of a datetime column, as the database driver returns it (SQLite: text)."""
    if value is None or isinstance(value, datetime.datetime):
        return value
    parsed = parse_datetime(str(value))
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)  # stored in UTC when USE_TZ
    return parsed
