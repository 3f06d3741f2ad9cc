"""HttpCacheMiddleware: policies from HTTPCACHE['RULES'], and a body-hash ETag fallback.

Place it right after GZipMiddleware (so it hashes the uncompressed body, R14) and
before SessionMiddleware, CsrfViewMiddleware and anything else that may set cookies
(so the privacy rule sees the final Set-Cookie, R21). ``manage.py check`` warns
otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from . import metrics, preconditions
from .cachecontrol import parse_cache_control
from .cdn.tags import tag_response
from .conf import conf
from .dependencies import render_of
from .httputil import SAFE_METHODS
from .policy import apply
from .responses import settle
from .routing import policy_for
from .validators import body_etag

__all__ = ["HttpCacheMiddleware"]


class HttpCacheMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.async_mode:
            return self.__acall__(request)
        return self.process(request, self.get_response(request))

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase = await self.get_response(request)
        return self.process(request, response)

    def process(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        # Counted once, on the final response (docs/observe.md); surrogate keys on it too
        # (docs/cdn.md), so that a 304 repeats them. The response store keeps it before
        # the metrics headers, as it leaves here: cookies set, not compressed yet (R29).
        response = settle(request, tag_response(request, self.decide(request, response)))
        return metrics.observe(request, response)

    def decide(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        policy, _ = policy_for(request)
        apply(request, response, policy)
        if response.status_code == 304:
            # CommonMiddleware adds "Content-Length: 0"; a 304 may only repeat the
            # length of the 200 it stands for (RFC 9110 §8.6, R11).
            if "Content-Length" in response.headers:
                del response.headers["Content-Length"]
            return response
        if request.method not in SAFE_METHODS:
            return response
        render = render_of(request)
        if render is not None and 200 <= response.status_code < 300:
            # The surface learned from the view's response; this is the final one, with
            # what middleware added on the way out (SessionMiddleware's Vary: Cookie),
            # which the view's 304s repeat from now on (R11). A render that read an
            # untracked model got no validator from its surface: the body hash may give one.
            render.finish(response)
        if preconditions.was_evaluated(response):
            return response
        status = response.status_code
        if not 200 <= status < 300 or status == 206 or response.streaming:
            return response  # R01; streamed bodies cannot be hashed without buffering
        if "ETag" not in response.headers and conf.BODY_ETAG and not _no_store(response):
            response.headers["ETag"] = body_etag(response)
        if "ETag" not in response.headers and "Last-Modified" not in response.headers:
            return response
        current = preconditions.Validators.from_response(response)
        decision = preconditions.evaluate(request, current)
        if decision == preconditions.NOT_MODIFIED:
            return preconditions.not_modified(request, current, source=response)
        if decision == preconditions.PRECONDITION_FAILED:
            failed = preconditions.precondition_failed(request, current)
            apply(request, failed, policy)
            return failed
        return response


def _no_store(response: HttpResponseBase) -> bool:
    # Directives by name, not by substring: an extension such as my-directive="no-store"
    # is not no-store (RFC 9111 §5.2.3).
    return any(name == "no-store" for name, _ in parse_cache_control(response.headers.get("Cache-Control", "")))
