"""A django-debug-toolbar panel: what django-httpcache did for the current request.

Add ``"django_httpcache.contrib.debug_toolbar.HttpCachePanel"`` to
``DEBUG_TOOLBAR_PANELS``. It shows the policy and where it came from, what the
validators were made of, each precondition step, the response store and CDN activity,
and why a request that asked for a 304 got a 200 (docs/observe.md).
"""

from __future__ import annotations

import re
from typing import Any

from debug_toolbar.panels import Panel
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from .. import explain, trace
from ..dependencies import known
from ..routing import policy_for

__all__ = ["HttpCachePanel"]

OUR_TIMING = re.compile(r'httpcache;desc="(?P<desc>[^"]*)"(?:;dur=(?P<dur>[0-9.]+))?')
HEADERS = ("Cache-Control", "CDN-Cache-Control", "ETag", "Last-Modified", "Vary", "Server-Timing", "Cache-Status")
SOURCES = {
    "decorator": "the @cache_policy decorator",
    "mixin": "the DRF mixin's cache_policy",
    "view": "the view",
    "default": "HTTPCACHE['DEFAULT_POLICY']",
    "none": "no policy: headers left alone",
}


def _source(source: str) -> str:
    if source.startswith("rule "):
        return f"HTTPCACHE['RULES'][{source[5:]}]"
    return SOURCES.get(source, source)


class HttpCachePanel(Panel):
    title = "HTTP cache"
    template = "django_httpcache/debug_toolbar.html"
    is_async = True

    @property
    def nav_subtitle(self) -> str:
        stats = self.get_stats()  # type: ignore[no-untyped-call]
        return str(stats.get("summary", ""))

    def process_request(self, request: HttpRequest) -> Any:
        # Ask the surfaces for the precondition steps too (they skip them otherwise).
        request.__dict__[trace.EXPLAIN] = True
        return super().process_request(request)  # type: ignore[no-untyped-call]

    def generate_stats(self, request: HttpRequest, response: HttpResponseBase) -> None:
        self.record_stats(collect(request, response))  # type: ignore[no-untyped-call]

    def generate_server_timing(self, request: HttpRequest, response: HttpResponseBase) -> None:
        # The toolbar replaces Server-Timing with its panels' entries: ours becomes one.
        found = OUR_TIMING.search(response.headers.get("Server-Timing", ""))
        if found is not None:
            self.record_server_timing("decision", found["desc"], found["dur"] or 0)  # type: ignore[no-untyped-call]


def collect(request: HttpRequest, response: HttpResponseBase) -> dict[str, Any]:
    """Plain values (the toolbar stores them as JSON) describing this request."""
    found = trace.peek(request) or trace.Trace()
    policy, source = policy_for(request)
    name = found.policy[0] or (policy.name if policy is not None else "")
    source = found.policy[1] if found.policy[0] else source
    view_known = known(found.view) if found.view else None
    outcome = found.outcome or str(response.status_code)
    return {
        "summary": f"{response.status_code} {outcome.replace('_', ' ')}",
        "status": response.status_code,
        "outcome": outcome,
        "view": found.view or "(no conditional view)",
        "policy": name or "(none)",
        "policy_header": policy.header if policy is not None else "",
        "policy_source": _source(source),
        "mode": found.mode or "(no model validators)",
        "validator_ms": round(found.validator_seconds * 1000, 3),
        "etag": found.etag or "",
        "models": list(found.models),
        "object": "" if found.object is None else f"{found.object[0]} pk={found.object[1]}",
        "versions": [[part, repr(values)] for part, values in explain.parts(found.plan, found.models).items()],
        "observed": sorted(view_known.labels) if view_known is not None else [],
        "observed_vary": sorted(view_known.vary) if view_known is not None else [],
        "variant": [request.path, request.META.get("QUERY_STRING", ""), request.META.get("HTTP_ACCEPT", "")],
        "steps": list(found.steps),
        "reason": found.reason,
        "store": found.store or "(not used)",
        "tags": list(found.tags),
        "purges": list(found.purges),
        "headers": [[h, response.headers[h]] for h in HEADERS if h in response.headers],
    }
