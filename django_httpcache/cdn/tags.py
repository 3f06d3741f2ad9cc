"""Surrogate keys on responses, within the provider's budget (docs/cdn.md).

A conditional response carries, in the backend's header (``Surrogate-Key``,
``Cache-Tag``, ``Edge-Cache-Tag``, ``xkey``), the key of every model whose versions its
validators cover and, for a detail, its object's key and its model's rows key. Over the
budget (header bytes, tag count, tag length), the one fallback: a detail's object and
rows keys are replaced by its model's key, which every change to the model purges; model
keys are never dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from django.http import HttpRequest
from django.http.response import HttpResponseBase

from .. import trace
from ..cachecontrol import parse_cache_control
from ..dependencies import known, render_of
from ..dependencies.known import tracked_labels
from ..httputil import SAFE_METHODS
from . import CdnSettings, cdn_settings, model_key, object_key, rows_key, warn_once
from .backends import PurgeBackend

__all__ = ["Budgeted", "KeySet", "budget", "keys_of", "preview", "stats", "tag_response"]

#: per process: "tagged", "collapsed" (a detail's row keys replaced), "over_budget"
stats: Counter[str] = Counter()


class KeySet(NamedTuple):
    models: list[str]
    #: a detail's object key and its model's rows key
    rows: list[str]
    #: what replaces ``rows`` over budget: the detail's model key
    instead: list[str]


class Budgeted(NamedTuple):
    keys: tuple[str, ...]
    #: "fits", "collapsed" (row keys replaced by the model key) or "over_budget" (even then)
    outcome: str


def keys_of(models: Sequence[str], obj: tuple[str, object] | None, prefix: str) -> KeySet:
    """The keys of a representation built from ``models`` (and the detail ``obj``)."""
    return _key_set(models, None if obj is None else (obj[0], object_key(obj[0], obj[1], prefix)), prefix)


def _key_set(models: Sequence[str], detail: tuple[str, str] | None, prefix: str) -> KeySet:
    model_keys = [model_key(label, prefix) for label in models]
    if detail is None:
        return KeySet(model_keys, [], [])
    own = model_key(detail[0], prefix)
    return KeySet(model_keys, [detail[1], rows_key(detail[0], prefix)], [] if own in model_keys else [own])


def _fits(keys: Sequence[str], backend: PurgeBackend) -> bool:
    if backend.max_tags is not None and len(keys) > backend.max_tags:
        return False
    if any(len(key.encode()) > backend.max_tag_bytes for key in keys):
        return False
    return len(backend.separator.join(keys).encode()) <= backend.max_header_bytes


def budget(keys: KeySet, backend: PurgeBackend) -> Budgeted:
    """The keys to send: all of them when they fit, else the collapsed set."""
    everything = [*keys.models, *keys.rows]
    if _fits(everything, backend):
        return Budgeted(tuple(everything), "fits")
    collapsed = (*keys.models, *keys.instead)
    # Dropping a model key would leave a stale copy no purge reaches: never.
    return Budgeted(collapsed, "collapsed" if _fits(collapsed, backend) else "over_budget")


def preview(tags: Sequence[str], backend: PurgeBackend, prefix: str) -> Budgeted:
    """The keys a view's responses would carry, from the report's ``Row.tags``: model
    labels, and ``<label>.<pk>`` for a detail's object."""
    models = [tag for tag in tags if not tag.endswith(".<pk>")]
    details = [tag.removesuffix(".<pk>") for tag in tags if tag.endswith(".<pk>")]
    detail = (details[0], f"{prefix}{details[0]}.<pk>") if details else None
    return budget(_key_set(models, detail, prefix), backend)


def cdn_header_line(tags: Sequence[str]) -> str:
    """``"<header>: <keys> (<outcome>)"`` for the report; "" without a CDN or tags."""
    settings = cdn_settings()
    if settings is None or settings.header is None or not tags:
        return ""
    chosen = preview(tags, settings.backend, settings.prefix)
    return f"{settings.header}: {settings.backend.separator.join(chosen.keys)} ({chosen.outcome})"


def taggable(request: HttpRequest, response: HttpResponseBase, settings: CdnSettings) -> bool:
    """2xx and 304 to GET/HEAD that a shared cache may store (never private or no-store)."""
    status = response.status_code
    if request.method not in SAFE_METHODS or not (200 <= status < 300 or status == 304):
        return False
    if settings.strip_tags and settings.strip_tags not in request.headers:
        return False  # not from the CDN: the client would see them
    for name, arg in parse_cache_control(response.headers.get("Cache-Control", "")):
        if name == "no-store" or (name == "private" and arg is None):
            return False
    return True


def tag_response(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Write the surrogate keys of a conditional response (the middleware calls this)."""
    settings = cdn_settings()
    found = trace.peek(request)
    if settings is None or settings.header is None or found is None:
        return response
    if not found.models and found.object is None:
        return response
    if not taggable(request, response, settings):
        return response
    backend = settings.backend
    chosen = budget(keys_of(_labels(request, found), found.object, settings.prefix), backend)
    if chosen.outcome != "fits":
        stats[chosen.outcome] += 1
        warn_once(
            f"budget:{found.view}:{chosen.outcome}",
            "Surrogate keys of %s exceed the %s budget (%s): %s (see manage.py httpcache_report).",
            found.view or request.path,
            backend.name,
            _describe(backend),
            "a detail's row keys replaced by its model key" if chosen.outcome == "collapsed" else "all model keys sent",
        )
    stats["tagged"] += 1
    found.tags = chosen.keys
    response.headers[settings.header] = backend.separator.join(chosen.keys)
    return response


def _labels(request: HttpRequest, found: trace.Trace) -> list[str]:
    """What the validators cover, what the view is known to read, and what this render
    read besides: a first render withholds its validators (R26) but may still be stored,
    and must be purged too; a 304 repeats its 200's keys."""
    labels = set(found.models)
    if found.view:
        labels.update(known(found.view).labels)
    render = render_of(request)
    if render is not None:
        labels.update(tracked_labels(render.view, render.observation)[0])
        labels.update(known(render.view).labels)
    return sorted(labels)


def _describe(backend: PurgeBackend) -> str:
    count = "no tag limit" if backend.max_tags is None else f"{backend.max_tags} tags"
    return f"{backend.max_header_bytes} bytes, {count}, {backend.max_tag_bytes} bytes a tag"
