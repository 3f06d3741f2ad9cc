"""Counters and timings of what the app did, per view and policy, and the response
headers that show it: ``Server-Timing`` and ``Cache-Status`` (RFC 9211).

The middleware calls ``observe()`` once per response, after everything else decided;
surfaces only fill the request's ``trace``. Purge backends report to ``purge()``, the
version store to ``version_store_failed()``. With HTTPCACHE['METRICS'] the counts go to
``prometheus_client`` (the metric names are a contract, see docs/observe.md); with
HTTPCACHE['STATS_CACHE'] to a shared cache for ``manage.py httpcache_stats``.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
from typing import Any

from django.conf import settings
from django.core.cache import InvalidCacheBackendError, caches
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils.cache import patch_cache_control

from . import explain, stats, trace
from .conf import conf
from .httputil import log_once, unwrap
from .policy import Problem
from .routing import policy_for
from .versions.store import counter_store, is_per_process

__all__ = ["observe", "observe_problems", "outcome_of", "prometheus_view", "purge", "version_store_failed"]

logger = logging.getLogger("django_httpcache")

CACHE_NAME = "django-httpcache"  # R30: the cache Cache-Status names
# Histogram buckets, in seconds: a counter-mode validator takes tens of microseconds,
# an aggregate one a query (a millisecond or more).
VALIDATOR_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5)
PURGE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# RFC 9211 §2.2: why a cache forwarded the request.
_FORWARD = frozenset({"bypass", "method", "uri-miss", "vary-miss", "miss", "request", "stale", "partial"})
# A member of a comma-separated header, commas inside quoted strings kept.
_MEMBER = re.compile(r'(?:[^,"]|"(?:\\.|[^"\\])*")+')
_OUTCOMES = {304: "not_modified", 412: "precondition_failed", 428: "precondition_required"}
# R30: Server-Timing's description is made of these words only, never of request data.
_MODES = frozenset({"counter", "aggregate", "values"})
# What a surface built validators for (trace.mode) that reads model versions.
_FROM_VERSIONS = frozenset({"queryset", "instance", "collection"})


def version_mode(found: trace.Trace | None) -> str:
    """How the validators were made, for labels and Server-Timing: ``counter`` or
    ``aggregate`` (the version mode in force) for model validators, ``values`` for a
    view's own values (``etag=``, ``last_modified=``), "" for none."""
    mode = found.mode if found is not None else ""
    if mode in _FROM_VERSIONS:
        return "counter" if counter_store() is not None else "aggregate"
    return mode if mode in _MODES else ("other" if mode else "")  # R30: fixed words only


def outcome_of(status: int, store: str = "") -> str | None:
    """What a response was, for counting (trace.OUTCOMES); None for the rest (3xx, 4xx, 5xx)."""
    found = _OUTCOMES.get(status)
    if found is not None:
        return found
    if 200 <= status < 300:
        return "stored" if store == "hit" else "full"
    return None


def view_label(request: HttpRequest, found: trace.Trace | None) -> str:
    """The URL name (``namespace:name``), else the view's dotted path: few and stable values."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return str(match.view_name)
    if found is not None and found.view:
        return found.view
    return "<unresolved>"


def observe(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Count this response and, when asked, describe it in its headers. Never raises:
    observing must not turn a good response into a 500."""
    try:
        _observe(unwrap(request), response)
    except Exception:
        _once("observe", "Observing a response failed; metrics skip it.", exc_info=True)
    return response


def _observe(request: HttpRequest, response: HttpResponseBase) -> None:
    counting, headers = conf.METRICS or conf.STATS_CACHE is not None, _headers_on()
    if not (counting or headers or settings.DEBUG):
        return  # nothing counts, no header, no panel (DEBUG only) reads the outcome
    found = trace.peek(request)
    status = response.status_code
    outcome = outcome_of(status, found.store if found is not None else "")
    wanted = outcome is not None and counting
    if found is not None or wanted:
        policy, source = policy_for(request)  # resolved once per request, then remembered
        name = policy.name if policy is not None else ""
    if found is not None:
        found.policy, found.outcome = (name, source), outcome or str(status)
        # Reasons are for the debug-toolbar panel: in DEBUG only (no cost, no memory in production).
        if outcome == "full" and settings.DEBUG:
            explain.remember(found, response)
            found.reason = found.reason or explain.reason(request, response, found)
    if wanted and outcome is not None:
        view = view_label(request, found)
        if conf.METRICS:
            _prometheus_observe(view, name, outcome, found)
        if conf.STATS_CACHE is not None:
            stats.count(view, outcome)
    if headers and (found is not None or outcome is not None):
        _describe(request, response, found, outcome)


def _headers_on() -> bool:
    wanted = conf.RESPONSE_HEADERS
    return bool(settings.DEBUG) if wanted is None else bool(wanted)


# -- Server-Timing and Cache-Status ---------------------------------------------------


def _describe(request: HttpRequest, response: HttpResponseBase, found: trace.Trace | None, outcome: str | None) -> None:
    words = [str(response.status_code)]
    if outcome in ("not_modified", "precondition_failed"):
        words.append(_decided_by(request))
    elif outcome == "precondition_required":
        words.append("if-match-required")
    elif outcome == "stored":
        words.append("stored")
    mode = version_mode(found)
    if mode:
        words.append(mode)
    timing = f'httpcache;desc="{" ".join(words)}"'
    if found is not None and found.validator_seconds:
        timing += f";dur={found.validator_seconds * 1000:.2f}"
    _append(response, "Server-Timing", timing)
    store = found.store if found is not None else ""
    if store:
        _prepend(response, "Cache-Status", cache_status(store))


def _decided_by(request: HttpRequest) -> str:
    """Which validator decided a 304 or a 412: an entity-tag, else a date (R03 order)."""
    meta = request.META
    if "HTTP_IF_MATCH" in meta or "HTTP_IF_NONE_MATCH" in meta:
        return "etag"
    return "date"


def cache_status(store: str) -> str:
    """RFC 9211 §2 for the response store's answer: ``hit`` only when the body came from
    it, else ``fwd=`` why the view ran (R30)."""
    if store == "hit":
        return f"{CACHE_NAME}; hit"
    if store == "stored":
        return f"{CACHE_NAME}; fwd=miss; stored"
    return f"{CACHE_NAME}; fwd={store if store in _FORWARD else 'miss'}"


def _others(response: HttpResponseBase, header: str, ours: str) -> list[str]:
    """The members of a list header that are not ours: a response replayed from the
    response store carries the ones written when it was rendered, no longer true (R30)."""
    return [m.strip() for m in _MEMBER.findall(response.headers.get(header, "")) if not m.strip().startswith(ours)]


def _append(response: HttpResponseBase, header: str, value: str) -> None:
    response.headers[header] = ", ".join([*_others(response, header, "httpcache;"), value])


def _prepend(response: HttpResponseBase, header: str, value: str) -> None:
    # RFC 9211 §2: the cache nearest the origin comes first.
    response.headers[header] = ", ".join([value, *_others(response, header, CACHE_NAME + ";")])


# -- Prometheus -------------------------------------------------------------------------

_metrics: dict[str, Any] | None = None


def _once(key: str, message: str, *args: Any, exc_info: bool = False) -> None:
    log_once(logging.ERROR, f"metrics:{key}", message, *args, exc_info=exc_info)


def prometheus_metrics() -> dict[str, Any] | None:
    """The metric objects, created on first use in the default registry (where
    django-prometheus and ``prometheus_client.start_http_server`` find them too); None
    without ``prometheus_client`` (logged once; ``manage.py check`` says httpcache.E050)."""
    global _metrics
    if _metrics is None:
        try:
            from prometheus_client import Counter, Histogram
        except ImportError:
            _once("import", "HTTPCACHE['METRICS'] is on but prometheus_client is not installed: nothing is counted.")
            return None
        _metrics = {
            "responses": Counter("httpcache_responses", "Responses by outcome.", ("view", "policy", "outcome")),
            "validator": Histogram(
                "httpcache_validator_seconds",
                "Time spent reading versions and building validators.",
                ("view", "mode"),
                buckets=VALIDATOR_BUCKETS,
            ),
            "store": Counter("httpcache_store", "Response store lookups by result.", ("view", "result")),
            "purges": Counter("httpcache_purges", "CDN purges by result.", ("backend", "result")),
            "purge_seconds": Histogram(
                "httpcache_purge_seconds", "Latency of CDN purge requests.", ("backend",), buckets=PURGE_BUCKETS
            ),
            "outages": Counter(
                "httpcache_version_store_failures", "Failed reads or writes of the version store.", ("alias",)
            ),
        }
    return _metrics


# Labelled children by (metric, *labels): ``labels()`` validates and locks on every
# call, a dict lookup does not (the hot path of a 304).
_children: dict[tuple[str, ...], Any] = {}


def _child(metric: str, *labels: str) -> Any:
    key = (metric, *labels)
    found = _children.get(key)
    if found is None:
        metrics = prometheus_metrics()
        if metrics is None:
            return None
        found = _children[key] = metrics[metric].labels(*labels)
    return found


def _prometheus_observe(view: str, policy: str, outcome: str, found: trace.Trace | None) -> None:
    counter = _child("responses", view, policy, outcome)
    if counter is None:
        return
    counter.inc()
    if found is None:
        return
    if found.mode and found.validator_seconds:
        _child("validator", view, version_mode(found)).observe(found.validator_seconds)
    if found.store:
        _child("store", view, found.store).inc()


def purge(backend: str, result: str, seconds: float) -> None:
    """Count one purge request to a CDN: ``result`` is "sent" or "failed"; ``seconds`` its latency."""
    if not conf.METRICS:
        return
    counter = _child("purges", backend, result)
    if counter is not None:
        counter.inc()
        _child("purge_seconds", backend).observe(seconds)


def version_store_failed(alias: str) -> None:
    """Count one failed read or write of the version store (an outage, or part of one)."""
    if not conf.METRICS:
        return
    counter = _child("outages", alias)
    if counter is not None:
        counter.inc()


def allowed(request: HttpRequest) -> bool:
    """Is the client's address in HTTPCACHE['METRICS_ALLOW']?"""
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is loopback too
    address = mapped if mapped is not None else address
    return any(address in ipaddress.ip_network(net, strict=False) for net in conf.METRICS_ALLOW)


def prometheus_view(request: HttpRequest) -> HttpResponse:
    """The metrics in Prometheus' text format, for clients in METRICS_ALLOW (403 otherwise).

    Under gunicorn with several workers, set ``PROMETHEUS_MULTIPROC_DIR``: every worker
    writes its counts there, and this view adds them up (prometheus_client's
    MultiProcessCollector), whichever worker answers the scrape.
    """
    if not allowed(request):
        return HttpResponse(b"Forbidden\n", status=403, content_type="text/plain")
    try:
        from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
        from prometheus_client.multiprocess import MultiProcessCollector
    except ImportError:
        _once(
            "import-view",
            "prometheus_view: prometheus_client is not installed (pip install django-httpcache[metrics]).",
        )
        return HttpResponse(b"prometheus_client is not installed\n", status=501, content_type="text/plain")
    registry: Any = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    response = HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
    patch_cache_control(response, no_store=True)  # counts of this moment, never reused
    return response


def observe_problems() -> list[Problem]:
    """System-check problems of the observing settings (ids E050-E051, W050-W051)."""
    problems = []
    if conf.METRICS:
        try:
            import prometheus_client  # noqa: F401
        except ImportError:
            msg = (
                "HTTPCACHE['METRICS'] is True but prometheus_client is not installed: "
                "pip install 'django-httpcache[metrics]', or set METRICS to False."
            )
            problems.append(Problem("httpcache.E050", msg))
        folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
            msg = (
                f"PROMETHEUS_MULTIPROC_DIR={folder!r} is not a writable directory: HTTPCACHE['METRICS'] counts nothing."
            )
            problems.append(Problem("httpcache.W051", msg, warning=True))
    alias = conf.STATS_CACHE
    if alias is not None:
        try:
            caches[alias]
        except InvalidCacheBackendError:
            msg = f"HTTPCACHE['STATS_CACHE'] = {alias!r} is not an alias in CACHES."
            problems.append(Problem("httpcache.E051", msg))
        else:
            if is_per_process(alias):
                msg = (
                    f"HTTPCACHE['STATS_CACHE'] = {alias!r} is a per-process cache: manage.py httpcache_stats "
                    "sees none of the server's counts. Use a cache every process shares (Redis, Memcached, database)."
                )
                problems.append(Problem("httpcache.W050", msg, warning=True))
    return problems
