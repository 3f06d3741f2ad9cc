"""Validators: entity-tags and Last-Modified, from versions, model rows or a body hash.

Every tag is a quoted lowercase hex digest, so it never holds a DQUOTE, space, comma
or control character (R13), and is the same in every process and on every machine
(no ``hash()``, no per-process salt). Every tag folds in the variant key (R14).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Count, Max, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import translation

from . import versions
from .conf import conf
from .policy import CachePolicy
from .preconditions import Validators, last_modified

__all__ = ["body_etag", "etag_for", "for_instance", "for_queryset", "for_values", "variant_key"]

logger = logging.getLogger("django_httpcache")

_SEP = "\x1f"
_FROM_VALUES = object()


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def body_etag(response: HttpResponseBase, algorithm: str | None = None) -> str:
    """A strong tag from the body bytes and the headers that change their meaning (R14)."""
    hasher = hashlib.new(algorithm or conf.BODY_ETAG_ALGORITHM, usedforsecurity=False)
    for header in ("Content-Type", "Content-Encoding", "Content-Language"):
        hasher.update(response.headers.get(header, "").encode("latin-1", "replace"))
        hasher.update(b"\x1f")
    hasher.update(response.content)  # type: ignore[attr-defined]
    return f'"{hasher.hexdigest()}"'


def variant_key(request: HttpRequest, policy: CachePolicy | None, media_type: str = "") -> str:
    """What selects this representation besides the data (R14, R19).

    Path and query string, the negotiated media type, the active language when i18n
    is on, the user when the policy is private, and the configured ETAGGERS.
    """
    request = getattr(request, "_request", request)
    parts = [request.get_full_path(), media_type]
    if settings.USE_I18N:
        parts.append(translation.get_language() or "")
    if policy is not None and policy.is_private:
        user = getattr(request, "user", None)
        parts.append(str(user.pk) if user is not None and user.is_authenticated else "anonymous")
    for etagger in conf.etaggers():
        parts.append(str(etagger(request)))
    return _SEP.join(parts)


def etag_for(values: Iterable[Any], variant: str, *, weak: bool = False) -> str:
    """A tag for a version (any values that change when the data changes) in a variant."""
    text = _SEP.join(map(str, values)) + _SEP + variant
    tag = f'"{_digest(text)}"'
    return "W/" + tag if weak else tag


def _stamp_time(value: Any) -> Any:
    """Datetimes at microsecond precision, whatever their timezone."""
    if isinstance(value, datetime.datetime):
        return value.timestamp() if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc).timestamp()
    return value


def for_values(
    values: Sequence[Any] | None,
    modified: Any,
    variant: str,
    *,
    weak: bool = False,
    exists: Any = _FROM_VALUES,
) -> Validators:
    """Validators from version values and a modification time (datetime or seconds).

    ``exists`` defaults to "some version was given"; None means unknown (a list page).
    """
    seconds, recent = last_modified(modified, now=time.time(), settle=conf.LAST_MODIFIED_SETTLE)
    tag = None if values is None else etag_for(values, variant, weak=weak)
    if exists is _FROM_VALUES:
        exists = tag is not None or seconds is not None
    return Validators(etag=tag, last_modified=seconds, exists=exists, modified_recently=recent)


def _dependencies(dependencies: Iterable[type[models.Model] | str]) -> list[type[models.Model]]:
    return [versions._model(d) for d in dependencies]


_warned: set[str] = set()


def _untracked(models_: Iterable[type[models.Model]]) -> bool:
    """Validators from an untracked model could miss a change (an update() through a
    plain manager, an m2m change): give none rather than risk a stale 304."""
    missing = sorted(versions.label(m) for m in models_ if not versions.is_tracked(m))
    for key in missing:
        if key not in _warned:
            _warned.add(key)
            logger.warning(
                "%s is not tracked, so no validators come from it (give it a VersionedManager "
                "or call django_httpcache.versions.track()); see manage.py check.",
                key,
            )
    return bool(missing)


# -- instances ---------------------------------------------------------------------------


def for_instance(
    obj: models.Model,
    variant: str,
    *,
    dependencies: Iterable[type[models.Model] | str] = (),
    mode: str | None = None,
) -> Validators:
    """Validators of one model instance: label, pk, version and updated-at in the tag;
    Last-Modified from updated-at. Dependencies add their versions (counter or aggregate)."""
    model = type(obj)._meta.concrete_model
    deps = _dependencies(dependencies)
    if _untracked([model, *deps]):
        return Validators(exists=True)
    version, updated = versions.row_fields(model)
    values: list[Any] = [versions.label(model), obj.pk]
    modified = getattr(obj, updated.attname) if updated is not None else None
    if version is not None:
        values.append(getattr(obj, version.attname))
    if modified is not None:
        values.append(_stamp_time(modified))
    if version is None and updated is None:
        deps.insert(0, model)  # nothing on the row moves: the model's own version must
    if deps:
        dep_values, dep_modified = _model_versions(deps, mode)
        if dep_values is None:
            return Validators(exists=True)  # no trustworthy version: no validators (200)
        values += dep_values
        modified = _latest(modified, dep_modified)
    return for_values(values, modified, variant, exists=True)


def _latest(*moments: Any) -> Any:
    stamps = [_stamp_time(m) for m in moments if m is not None]
    return max(stamps) if stamps else None


def _model_versions(deps: list[type[models.Model]], mode: str | None) -> tuple[list[Any] | None, Any]:
    """Versions of whole models: counter tokens, or (fallback) one aggregate query."""
    tokens = _counter_tokens(deps, mode)
    if tokens is not None:
        return ["counter", *tokens], _latest(*(versions.token_time(t) for t in tokens))
    row = _aggregate(None, deps)
    return ["aggregate", *row.values()], _row_modified(row)


def _counter_tokens(models_: Sequence[type[models.Model]], mode: str | None) -> list[str] | None:
    if (mode or conf.VERSION_MODE) != "counter":
        return None
    store = versions.counter_store()
    if store is None:
        return None
    try:
        return store.tokens([versions.label(m) for m in models_])
    except versions.StoreError as exc:
        logger.warning("%s; using aggregate mode for this request.", exc)
        return None


# -- querysets -----------------------------------------------------------------------------


def for_queryset(
    queryset: models.QuerySet[Any],
    variant: str,
    *,
    dependencies: Iterable[type[models.Model] | str] = (),
    mode: str | None = None,
) -> Validators:
    """Validators of a collection: the whole filtered queryset (pages are in the variant).

    Counter mode reads one token per model from the version store (no query). Aggregate
    mode runs one query: COUNT, MAX(updated-at) and SUM(version) over the queryset (a
    subquery when sliced), the stamps of the models involved, and the same aggregates
    over each dependency; the query's SQL is part of the tag.
    """
    model = queryset.model._meta.concrete_model
    deps = [model, *_dependencies(dependencies)]
    if _untracked(deps):
        return Validators(exists=None)
    tokens = _counter_tokens(deps, mode)
    if tokens is not None:
        modified = max(versions.token_time(t) for t in tokens)
        return for_values(["counter", *tokens], modified, variant, exists=None)
    if not queryset.query.is_sliced:
        queryset = queryset.order_by()
    row = _aggregate(queryset, deps[1:])
    return for_values(["aggregate", str(queryset.query), *row.values()], _row_modified(row), variant, exists=None)


def _scalar(queryset: models.QuerySet[Any], aggregate: Any, output: models.Field[Any, Any]) -> Any:
    """``(SELECT <aggregate> FROM ...)`` as an expression usable inside another query."""
    grouped = queryset.order_by().annotate(_one=Value(1)).values("_one")
    return Subquery(grouped.annotate(_value=aggregate).values("_value"), output_field=output)


def _aggregate(queryset: models.QuerySet[Any] | None, deps: Sequence[type[models.Model]]) -> dict[str, Any]:
    """One query: aggregates over ``queryset`` plus scalar subqueries for the stamps and
    the dependencies."""
    from .models import ModelStamp

    exprs: dict[str, Any] = {}
    owners = list(deps)
    if queryset is not None:
        version, updated = versions.row_fields(queryset.model)
        exprs["n"] = Count("pk")
        if updated is not None:
            exprs["m"] = Max(updated.name)
        if version is not None:
            exprs["s"] = Sum(version.name)
        owners.insert(0, queryset.model._meta.concrete_model)
    stamps = ModelStamp.objects.filter(label__in=[versions.label(m) for m in owners])
    scalars: dict[str, Any] = {
        "stamp_serial": _scalar(stamps, Sum("serial"), models.BigIntegerField()),
        "stamp_changed": _scalar(stamps, Max("changed_at"), models.DateTimeField()),
    }
    for index, dep in enumerate(deps):
        version, updated = versions.row_fields(dep)
        rows = dep._base_manager.all()
        scalars[f"d{index}n"] = _scalar(rows, Count("pk"), models.BigIntegerField())
        if updated is not None:
            scalars[f"d{index}m"] = _scalar(rows, Max(updated.name), models.DateTimeField())
        if version is not None:
            scalars[f"d{index}s"] = _scalar(rows, Sum(version.name), models.BigIntegerField())
    # aggregate() takes only aggregates; MAX over no rows is NULL, hence the COALESCE
    # back to the bare scalar (uncorrelated, so valid in an ungrouped aggregate query).
    for key, scalar in scalars.items():
        exprs[key] = Coalesce(Max(scalar), scalar)
    source = queryset if queryset is not None else ModelStamp.objects.all()
    return source.aggregate(**exprs)


def _row_modified(row: dict[str, Any]) -> Any:
    moments = [v for k, v in row.items() if isinstance(v, datetime.datetime)]
    return _latest(*moments)
