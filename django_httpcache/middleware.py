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

from . import preconditions
from .conf import conf
from .httputil import SAFE_METHODS
from .policy import apply
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
        policy, _ = policy_for(request)
        apply(request, response, policy)
        if response.status_code == 304:
            # CommonMiddleware adds "Content-Length: 0"; a 304 may only repeat the
            # length of the 200 it stands for (RFC 9110 §8.6, R11).
            if "Content-Length" in response.headers:
                del response.headers["Content-Length"]
            return response
        if request.method not in SAFE_METHODS or preconditions.was_evaluated(response):
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
    return "no-store" in response.headers.get("Cache-Control", "").lower()
