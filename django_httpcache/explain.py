"""Why a request that asked for a 304 got a 200, in words, for the debug-toolbar panel.

An entity-tag is a digest: the app cannot read an old one. So, per view, the last few
tags it sent are remembered in process memory with the versions they were made of, and
a client's tag is looked up there; a tag from another process (or from before a
restart) gets the general reason.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from django.db import models
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.http import parse_etags

from . import trace
from .httputil import SAFE_METHODS
from .versions.registry import concrete, label, row_fields

__all__ = ["parts", "reason", "remember"]

KEEP = 8  # tags remembered per view
UNKNOWN = "ETag changed (the client's tag is not the current one)"

_history: dict[str, OrderedDict[str, dict[str, Any]]] = {}
_lock = threading.Lock()


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def parts(plan: Any, labels: tuple[str, ...]) -> dict[str, Any]:
    """What a tag was made of: the version of each model it covers, of the collection,
    and of the row of a detail."""
    found: dict[str, Any] = {}
    snapshot = getattr(plan, "snapshot", None)
    if snapshot is not None:
        target = getattr(plan, "target", None)
        if snapshot.collection is not None:
            model = getattr(target, "model", None)
            what = f"the {label(concrete(model))} collection" if model is not None else "the collection"
            found[f"{what} (its rows' count or latest update)"] = snapshot.collection.values
        for name in labels:
            version = snapshot.found.get(name)
            if version is not None:
                found[f"{name} version"] = version.values
    target = getattr(plan, "target", None)
    if isinstance(target, models.Model):
        model = concrete(type(target))
        row = [getattr(target, f.attname) for f in row_fields(model) if f is not None]
        found[f"{label(model)} {target.pk} row version"] = tuple(row)
    return found


def remember(found: trace.Trace, response: HttpResponseBase) -> None:
    """Keep what the tag this response carries was made of (a full 200 only)."""
    etag = response.headers.get("ETag")
    if etag is None or found.plan is None or not found.view:
        return
    made_of = parts(found.plan, found.models)
    with _lock:
        tags = _history.setdefault(found.view, OrderedDict())
        tags[_opaque(etag)] = made_of
        tags.move_to_end(_opaque(etag))
        while len(tags) > KEEP:
            tags.popitem(last=False)


def reason(request: HttpRequest, response: HttpResponseBase, found: trace.Trace) -> str:
    """Why this 200 is not a 304, or "" when the request asked for none."""
    if request.method not in SAFE_METHODS:
        return ""
    meta = request.META
    if "HTTP_IF_NONE_MATCH" not in meta and "HTTP_IF_MODIFIED_SINCE" not in meta:
        return ""
    etag = response.headers.get("ETag")
    if etag is None and "Last-Modified" not in response.headers:
        return "No validator this time: the view read a model it was not yet known to read, or an untracked one (R26)"
    if "HTTP_IF_NONE_MATCH" not in meta:
        if "Last-Modified" not in response.headers:
            return "No Last-Modified yet: the data changed within HTTPCACHE['LAST_MODIFIED_SETTLE']"
        return "Last-Modified is later than If-Modified-Since"
    if etag is None:
        return "No ETag on this response, so If-None-Match cannot match"
    with _lock:
        tags = dict(_history.get(found.view, {}))
    current = tags.get(_opaque(etag))
    for tag in parse_etags(meta["HTTP_IF_NONE_MATCH"]):
        before = tags.get(_opaque(tag))
        if before is not None and current is not None:
            return _difference(before, current)
    return UNKNOWN


def _difference(before: dict[str, Any], now: dict[str, Any]) -> str:
    moved = [name for name in now if name in before and before[name] != now[name]]
    if moved:
        return "ETag changed: " + ", ".join(moved) + " moved"
    added = [name for name in now if name not in before]
    if added:
        return "ETag changed: the validators now also cover " + ", ".join(added)
    return "ETag changed: same versions, another variant (query, media type, language, user or ETAGGERS)"
