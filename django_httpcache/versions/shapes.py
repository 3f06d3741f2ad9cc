"""The compiled SQL of a collection's rows, reused for a queryset seen before.

Aggregate mode runs ``COUNT`` and ``MAX`` over a queryset's rows on every request.
Compiling that queryset costs more than running the statement on a small table, and a
view asks for the same few querysets over and over. Queries are keyed by everything
that goes into their SQL, parameter values included; a query with anything this
module does not read (an annotation, an expression, a subquery, a transform, extra(),
a filtered relation, or any Query attribute away from its default that is not read
here) gets no key and is compiled as before. So a key never names two queries with
different SQL: the cache can only save work, never change a tag.
"""

from __future__ import annotations

import datetime
import decimal
import threading
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from django.db import models
from django.db.models.expressions import Col
from django.db.models.lookups import Lookup
from django.db.models.sql import Query
from django.db.models.sql.datastructures import BaseTable, Join
from django.db.models.sql.where import WhereNode

__all__ = ["compiled_rows", "shape_key"]

#: Query attributes a key is built from.
KEYED = frozenset(
    {
        "model",
        "where",
        "alias_map",
        "alias_refcount",
        "table_map",  # follows alias_map
        "base_table",  # the first alias (a cached_property)
        "low_mark",
        "high_mark",
        "distinct",
        "order_by",
        "default_ordering",
        "standard_ordering",
    }
)
#: Query attributes that do not reach the SQL of ``values(pk, updated)``: values()
#: replaces the selected columns, or they only steer how the query is built.
IRRELEVANT = frozenset(
    {
        "select",
        "values_select",
        "default_cols",
        "deferred_loading",
        "select_related",
        "max_depth",
        "used_aliases",
        "filter_is_sticky",
        "_lookup_joins",
        "_annotation_select_cache",
        "_extra_select_cache",
    }
)
SCALARS = (
    str,
    int,
    float,
    bool,
    bytes,
    type(None),
    decimal.Decimal,
    datetime.date,
    datetime.datetime,
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
)
LIMIT = 512  # keys kept (least recently used dropped): parameter values are part of them


class _Unkeyed(Exception):
    """Something in the query this module does not read: compile it."""


def shape_key(query: Query) -> tuple[Any, ...] | None:
    """Everything that goes into the SQL of ``query``, or None when it holds something
    this module does not read."""
    try:
        for name, value in query.__dict__.items():
            if name not in KEYED and name not in IRRELEVANT and not _default(name, value):
                raise _Unkeyed(name)
        ordering: tuple[Any, ...] = ()
        if query.is_sliced:  # unsliced, the caller drops the ordering
            if not all(isinstance(item, str) for item in query.order_by):
                raise _Unkeyed("order_by")
            ordering = (query.order_by, query.default_ordering, query.standard_ordering)
        return (
            query.model,
            _where(query.where),
            tuple(_table(alias, table, query.alias_refcount.get(alias, 0)) for alias, table in query.alias_map.items()),
            query.low_mark,
            query.high_mark,
            query.distinct,
            ordering,
        )
    except _Unkeyed:
        return None


_fresh: list[Query] = []


def _default(name: str, value: Any) -> bool:
    """Is this attribute as a fresh Query has it (class default or set by __init__)?"""
    if not _fresh:
        _fresh.append(Query(None))
    try:
        return bool(value == getattr(_fresh[0], name))
    except Exception:  # missing on a fresh Query, or values that do not compare
        return False


def _table(alias: str, table: Any, refcount: int) -> tuple[Any, ...]:
    if type(table) is BaseTable:
        return ("base", alias, table.table_name, table.table_alias, refcount > 0)
    if type(table) is Join and table.filtered_relation is None:
        return (
            "join",
            alias,
            table.table_name,
            table.table_alias,
            table.parent_alias,
            table.join_type,
            table.join_field,
            table.join_cols,
            table.nullable,
            refcount > 0,
        )
    raise _Unkeyed("alias_map")


def _where(node: Any) -> tuple[Any, ...]:
    if type(node) is WhereNode:
        return ("where", node.connector, node.negated, tuple(_where(child) for child in node.children))
    if isinstance(node, Lookup) and type(node.lhs) is Col:
        column = node.lhs
        return (type(node), column.alias, column.target, column.output_field, _value(node.rhs))
    raise _Unkeyed(type(node).__name__)


def _value(value: Any) -> Any:
    # By type and repr: 1, 1.0, True and Decimal("1.00") compare equal but are not the
    # same parameter; datetimes keep their zone in the repr.
    if isinstance(value, SCALARS) and not isinstance(value, models.Model):
        return (type(value), repr(value))
    if type(value) in (list, tuple):
        return (type(value), tuple(_value(item) for item in value))
    if type(value) in (set, frozenset):
        return (type(value), frozenset(_value(item) for item in value))
    if isinstance(value, models.Model) and value.pk is not None:
        return (type(value), _value(value.pk))
    raise _Unkeyed(type(value).__name__)


_compiled: OrderedDict[tuple[Any, ...], tuple[str, tuple[Any, ...]]] = OrderedDict()
_lock = threading.Lock()


def compiled_rows(queryset: models.QuerySet[Any], names: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
    """``(sql, params)`` of ``queryset.values(*names)``: compiled once per key."""
    shape = shape_key(queryset.query)
    key = None if shape is None else (queryset.db, tuple(names), shape)
    if key is not None:
        with _lock:
            found = _compiled.get(key)
            if found is not None:
                _compiled.move_to_end(key)
                return found
    sql, params = queryset.values(*names).query.sql_with_params()
    found = (sql, tuple(params))
    if key is not None:
        with _lock:
            _compiled[key] = found
            if len(_compiled) > LIMIT:
                _compiled.popitem(last=False)
    return found


def forget() -> None:
    """Drop every compiled query (tests)."""
    with _lock:
        _compiled.clear()
