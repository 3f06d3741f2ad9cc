"""Small shared definitions: HTTP method sets, the DRF request unwrapper, view paths.

It imports nothing else of the package, so every module may import it.
"""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest

__all__ = [
    "IGNORED_METHODS",
    "MIDDLEWARE_PATH",
    "POLICY_METHODS",
    "REPLACING_METHODS",
    "SAFE_METHODS",
    "UNSAFE_METHODS",
    "WRITE_METHODS",
    "unwrap",
    "view_class",
    "view_path",
]

SAFE_METHODS = frozenset({"GET", "HEAD"})  # R10: HEAD is GET without the body
POLICY_METHODS = SAFE_METHODS  # the methods a cache policy describes
WRITE_METHODS = frozenset({"PUT", "PATCH", "DELETE"})  # the writes R17 may require If-Match for
UNSAFE_METHODS = WRITE_METHODS | {"POST"}
REPLACING_METHODS = frozenset({"PUT", "PATCH"})  # R16: their 2xx carries the new validators
IGNORED_METHODS = frozenset({"CONNECT", "OPTIONS", "TRACE"})  # R02

MIDDLEWARE_PATH = "django_httpcache.middleware.HttpCacheMiddleware"


def unwrap(request: Any) -> HttpRequest:
    """The Django request behind a DRF ``Request`` (or the request itself)."""
    return cast(HttpRequest, getattr(request, "_request", request))


def view_class(callback: Any) -> Any:
    """The class behind a class-based view's callback (Django or DRF), else None."""
    return getattr(callback, "view_class", None) or getattr(callback, "cls", None)


def view_path(func: Any) -> str:
    """Dotted path of a view, class-based views by their class (like ResolverMatch)."""
    func = view_class(func) or func
    return f"{func.__module__}.{func.__qualname__}"
