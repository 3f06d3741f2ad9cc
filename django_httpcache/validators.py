"""Validators: entity-tags and Last-Modified, from versions, model rows or a body hash,
and the variant key every tag folds in. The versions of whole models come from
``aggregate``.

Every tag is a quoted lowercase hex digest, so it never holds a DQUOTE, space, comma
or control character (R13), and is the same in every process and on every machine
(no ``hash()``, no per-process salt). Every tag folds in the variant key (R14).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.db import connections, models
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import translation

from .conf import conf
from .httputil import unwrap
from .policy import CachePolicy
from .preconditions import Validators, last_modified
from .versions.aggregate import latest, model_versions, stamp_time
from .versions.registry import concrete, is_tracked, label, model_of, row_fields

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
    request = unwrap(request)
    parts = [request.path, request.META.get("QUERY_STRING", ""), media_type]
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
    return [model_of(d) for d in dependencies]


_warned: set[str] = set()


def after_write(current: Validators) -> Validators:
    """Validators to send with a successful write (R16), or none: a tag from model-level
    versions computed while the writing transaction is still open (ATOMIC_REQUESTS)
    would miss what its own commit records, and no tag is better than a wrong one."""
    if current.model_level and any(conn.in_atomic_block for conn in connections.all(initialized_only=True)):
        return Validators(exists=current.exists)
    return current


def _untracked(models_: Iterable[type[models.Model]]) -> bool:
    """Validators from an untracked model could miss a change (an update() through a
    plain manager, an m2m change): give none rather than risk a stale 304."""
    missing = sorted(label(m) for m in models_ if not is_tracked(m))
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
    model = concrete(type(obj))
    deps = _dependencies(dependencies)
    if _untracked([model, *deps]):
        return Validators(exists=True)
    version, updated = row_fields(model)
    values: list[Any] = [label(model), obj.pk]
    modified = getattr(obj, updated.attname) if updated is not None else None
    if version is not None:
        values.append(getattr(obj, version.attname))
    if modified is not None:
        values.append(stamp_time(modified))
    if version is None and updated is None:
        deps.insert(0, model)  # nothing on the row moves: the model's own version must
    if deps:
        dep_values, dep_modified = model_versions(deps, mode)
        values += dep_values
        modified = latest(modified, dep_modified)
        current = for_values(values, modified, variant, exists=True)
        return replace(current, model_level=True)
    return for_values(values, modified, variant, exists=True)


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
    mode runs one query: COUNT and MAX(updated-at) over the queryset (a derived table,
    so slices hold), the stamps of the models involved, and the same aggregates over
    each dependency; the query's SQL is part of the tag. The stamps move after every
    committed change, so the tag does not depend on clocks; Last-Modified does (NTP).
    """
    model = concrete(queryset.model)
    deps = [model, *_dependencies(dependencies)]
    if _untracked(deps):
        return Validators(exists=None)
    values, modified = model_versions(deps[1:], mode, queryset=queryset)
    return replace(for_values(values, modified, variant, exists=None), model_level=True)
