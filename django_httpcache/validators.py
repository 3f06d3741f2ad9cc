"""Validators: entity-tags and Last-Modified, from versions, model rows or a body hash,
and the variant key every tag folds in. The versions of whole models come from
``aggregate``.

Every tag is a quoted lowercase hex digest, so it never holds a DQUOTE, space, comma
or control character (R13), and is the same in every process and on every machine
(no ``hash()``, no per-process salt). Every tag folds in the variant key (R14).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections, models
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import translation

from .conf import conf
from .dependencies import Row
from .httputil import log_once, unwrap
from .policy import CachePolicy
from .preconditions import Validators, last_modified
from .release import release
from .versions.aggregate import Version, latest, read, stamp_time
from .versions.registry import concrete, is_tracked, label, model_of, row_fields, tracked_models, tracking_generation

__all__ = ["body_etag", "etag_for", "for_instance", "for_queryset", "for_values", "variant_key"]


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


# Request headers a Vary names that the variant key does not fold in: compression is
# told apart by GZip's weak tags (R14), who asks by the privacy rules (R20, R21).
NOT_FOLDED = frozenset({"accept-encoding", "authorization", "cookie"})


def variant_key(
    request: HttpRequest, policy: CachePolicy | None, media_type: str = "", vary: Iterable[str] = ()
) -> str:
    """What selects this representation besides the data (R14, R19).

    Path and query string, the negotiated media type, the active language when i18n
    is on, the user when the policy is private, the value of every request header
    the policy's ``vary`` (or ``vary``, what the view was seen to vary on) names, the
    release (HTTPCACHE['RELEASE']) and the configured ETAGGERS.
    """
    request = unwrap(request)
    parts = [request.path, request.META.get("QUERY_STRING", ""), media_type]
    if settings.USE_I18N:
        parts.append(translation.get_language() or "")
    if policy is not None and policy.is_private:
        user = getattr(request, "user", None)
        parts.append(str(user.pk) if user is not None and user.is_authenticated else "anonymous")
    meta = request.META
    for name, key in _folded(policy.vary if policy is not None else (), frozenset(vary), settings.USE_I18N):
        parts.append(f"{name}={meta.get(key, '')}")
    if release_part := release():  # a deploy changes the rendering, so the tags (R14)
        parts.append(release_part)
    for etagger in conf.etaggers():
        try:
            parts.append(str(etagger(request)))
        except Exception:
            # The variant is unknown: a tag no other response shares, so no 304 from it.
            _etagger_failed(etagger)
            parts.append(secrets.token_hex(8))
    return _SEP.join(parts)


@functools.lru_cache(maxsize=256)
def _folded(policy_vary: tuple[str, ...], vary: frozenset[str], i18n: bool) -> tuple[tuple[str, str], ...]:
    """``(lowercase name, META key)`` of the request headers a variant folds in, in order."""
    # With i18n on, the active language stands for Accept-Language: "fr" and
    # "fr-FR,fr;q=0.9" select the same representation, so they share a tag.
    skipped = NOT_FOLDED | ({"accept-language"} if i18n else set())
    names = sorted({name.lower() for name in (*policy_vary, *vary)} - skipped)
    return tuple((name, "HTTP_" + name.upper().replace("-", "_")) for name in names)


def _etagger_failed(etagger: Any) -> None:
    name = getattr(etagger, "__qualname__", repr(etagger))
    message = "HTTPCACHE['ETAGGERS']: %s raised; responses get a tag of their own (no 304) until it is fixed."
    log_once(logging.ERROR, f"etagger:{name}", message, name, exc_info=True)


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
    model_level: bool = False,
) -> Validators:
    """Validators from version values and a modification time (datetime or seconds).

    ``exists`` defaults to "some version was given"; None means unknown (a list page).
    """
    seconds, recent = last_modified(modified, now=time.time(), settle=conf.LAST_MODIFIED_SETTLE)
    tag = None if values is None else etag_for(values, variant, weak=weak)
    if exists is _FROM_VALUES:
        exists = tag is not None or seconds is not None
    return Validators(etag=tag, last_modified=seconds, exists=exists, modified_recently=recent, model_level=model_level)


def _dependencies(dependencies: Iterable[type[models.Model] | str]) -> list[type[models.Model]]:
    return [model_of(d) for d in dependencies]


@dataclass(frozen=True)
class _Deps:
    """Dependencies resolved once per shape: concrete models other than ``own``, sorted
    by label, their labels, and whether any model involved is untracked."""

    models: tuple[type[models.Model], ...]
    labels: frozenset[str]
    untracked: bool


def _resolve(dependencies: Iterable[type[models.Model] | str], own: type[models.Model] | None) -> _Deps:
    """What every request of a view computes alike from its dependencies: each request
    reads the versions, not the shape (memoized per set of tracked models)."""
    return _resolved(tracking_generation(), own, tuple(dependencies))


@functools.lru_cache(maxsize=1024)
def _resolved(
    generation: Any, own: type[models.Model] | None, dependencies: tuple[type[models.Model] | str, ...]
) -> _Deps:
    deps = {concrete(m) for m in _dependencies(dependencies)} - {own}
    involved = [*deps, own] if own is not None else deps
    ordered = tuple(sorted(deps, key=label))
    return _Deps(ordered, frozenset(map(label, ordered)), any(not is_tracked(m) for m in involved))


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
        message = (
            "%s is not tracked, so no validators come from it (give it a VersionedManager "
            "or call django_httpcache.versions.track()); see manage.py check."
        )
        log_once(logging.WARNING, f"untracked:{key}", message, key)
    return bool(missing)


@dataclass(frozen=True)
class Snapshot:
    """Versions read before the data they describe (R25): per model label, and of the
    collection when there is one. It may hold more models than a tag needs (the first
    render of a view reads them all): a tag takes the part it covers."""

    found: Mapping[str, Version]
    collection: Version | None = None

    def covers(self, labels: Iterable[str]) -> bool:
        return all(name in self.found for name in labels)

    def part(self, labels: Iterable[str]) -> tuple[list[Any], Any]:
        """``(values, latest modification)`` of these models (labels are in the values:
        another set of models is another tag)."""
        parts = [] if self.collection is None else [self.collection]
        values: list[Any] = [*parts[0].values] if parts else []
        for name in sorted(set(labels)):
            version = self.found[name]
            values += [name, *version.values]
            parts.append(version)
        return values, latest(*(p.modified for p in parts))

    def merge(self, other: Snapshot) -> Snapshot:
        return Snapshot({**self.found, **other.found}, self.collection or other.collection)


def read_versions(
    dependencies: Iterable[type[models.Model] | str],
    mode: str | None = None,
    *,
    queryset: models.QuerySet[Any] | None = None,
) -> Snapshot | None:
    """Versions of these models (and of ``queryset``) now; None when one is untracked
    (no validators then: its changes are not recorded)."""
    # The collection's own version covers its model.
    deps = _resolve(dependencies, None if queryset is None else concrete(queryset.model))
    if deps.untracked and _untracked(deps.models):
        return None
    collection, found = read(deps.models, mode, queryset=queryset)
    return Snapshot(found, collection)


def instance_dependencies(
    model: type[models.Model], dependencies: Iterable[type[models.Model] | str]
) -> list[type[models.Model]]:
    """What an instance's tag must cover besides its row: the dependencies, and its own
    model's version when the row carries no updated-at (nothing on it gives a time, and
    a version alone repeats after a delete and re-create: R24)."""
    deps = _dependencies(dependencies)
    if row_fields(model)[1] is None:
        deps.append(model)
    return deps


# -- instances ---------------------------------------------------------------------------


def for_instance(
    obj: models.Model,
    variant: str,
    *,
    dependencies: Iterable[type[models.Model] | str] = (),
    mode: str | None = None,
    snapshot: Snapshot | None = None,
) -> Validators:
    """Validators of one model instance: label, pk, version and updated-at in the tag,
    and the versions of its dependencies, from ``snapshot`` when they were read before
    the instance was loaded (R25). Last-Modified covers what the tag covers."""
    model = concrete(type(obj))
    deps = instance_dependencies(model, dependencies)
    if snapshot is None:
        snapshot = read_versions(deps, mode)
    elif label(model) in map(label, deps) and label(model) not in snapshot.found:
        # Its own version was not read first (the model was not known before the row
        # was loaded): read it now. The row's version, read with the data, moves too,
        # so the pair never names an older state.
        own = read_versions([model], mode)
        snapshot = None if own is None else snapshot.merge(own)
    labels = {label(m) for m in deps}
    if snapshot is None or _untracked([model]) or not snapshot.covers(labels):
        return Validators(exists=True)
    version, updated = row_fields(model)
    values: list[Any] = [label(model), obj.pk]
    modified = getattr(obj, updated.attname) if updated is not None else None
    if version is not None:
        values.append(getattr(obj, version.attname))
    if modified is not None:
        values.append(stamp_time(modified))
    dep_values, dep_modified = snapshot.part(labels)
    moment = latest(modified, dep_modified)
    return for_values([*values, *dep_values], moment, variant, exists=True, model_level=bool(labels))


# -- querysets -----------------------------------------------------------------------------


def for_queryset(
    queryset: models.QuerySet[Any] | Any,
    variant: str,
    *,
    dependencies: Iterable[type[models.Model] | str] = (),
    mode: str | None = None,
    snapshot: Snapshot | None = None,
) -> Validators:
    """Validators of a collection: the whole filtered queryset (pages are in the variant).

    Counter mode reads one token per model from the version store (no query). Aggregate
    mode runs one query: COUNT and MAX(updated-at) over the queryset (a derived table,
    so slices hold), the stamps of the models involved, and the same aggregates over
    each dependency; the query's SQL is part of the tag. The stamps move after every
    committed change, so the tag does not depend on clocks; Last-Modified does (NTP).

    Whether a list has a current representation is known once it rendered a 2xx (an
    invalid page is a 404): ``exists`` is None until then (``If-None-Match: *`` is
    decided after the render, R01, R07). Something that is not a QuerySet (a view's
    get_queryset() may return a list) gets no validator.
    """
    if not isinstance(queryset, models.QuerySet):
        return Validators(exists=None)
    model = concrete(queryset.model)
    deps = _resolve(dependencies, model)
    if deps.untracked and _untracked([model]):
        return Validators(exists=None)
    if snapshot is None:
        snapshot = read_versions(deps.models, mode, queryset=queryset)
    if snapshot is None or snapshot.collection is None or not snapshot.covers(deps.labels):
        return Validators(exists=None)
    values, modified = snapshot.part(deps.labels)
    return for_values(values, modified, variant, exists=None, model_level=True)


def everything(dependencies: Iterable[type[models.Model] | str]) -> list[type[models.Model]]:
    """What to read before the first render of a view whose dependencies are not known
    yet: every tracked model, so that what the render reads is covered at once."""
    return sorted({*_dependencies(dependencies), *tracked_models()}, key=label)


@dataclass(frozen=True)
class Plan:
    """What a surface read before the data: the target (a queryset or an instance) and
    the versions, so that validators can be rebuilt once the render said what it read."""

    target: Any
    snapshot: Snapshot | None

    def covers(
        self, dependencies: Iterable[type[models.Model] | str]
    ) -> tuple[tuple[str, ...], tuple[str, Any] | None]:
        """The model labels whose versions its validators cover, and ``(label, pk)`` of
        the instance, if it is one (for surrogate keys, traces). A collection covers its
        own model; an instance its row, and its model only as ``for_instance`` does."""
        target = self.target
        if isinstance(target, models.Model):
            own = concrete(type(target))
            deps = instance_dependencies(own, dependencies)
            return tuple(sorted({label(concrete(m)) for m in deps})), (label(own), target.pk)
        if not isinstance(target, models.QuerySet):
            return (), None  # a list from get_queryset(): no validators, no keys
        own = concrete(target.model)
        return tuple(sorted({label(own), *(label(concrete(m)) for m in _dependencies(dependencies))})), None

    def row(self) -> Row | None:
        """The instance, whose reads by primary key its own row version covers."""
        target = self.target
        if isinstance(target, models.Model) and row_fields(concrete(type(target)))[1] is not None:
            return Row(concrete(type(target)), target)
        return None
