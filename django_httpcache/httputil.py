"""Small shared definitions: HTTP method sets, the DRF request unwrapper, view paths.

It imports nothing else of the package, so every module may import it.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

__all__ = [
    "IGNORED_METHODS",
    "MIDDLEWARE_PATH",
    "POLICY_METHODS",
    "REPLACING_METHODS",
    "SAFE_METHODS",
    "UNSAFE_METHODS",
    "WRITE_METHODS",
    "epoch_seconds",
    "forget_logged",
    "header_values",
    "log_once",
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
    # Looked up in __dict__: a missing attribute on an HttpRequest costs an exception,
    # and this runs a dozen times per request.
    return cast(HttpRequest, getattr(request, "__dict__", _NO_DICT).get("_request", request))


_NO_DICT: dict[str, Any] = {}


def view_class(callback: Any) -> Any:
    """The class behind a class-based view's callback (Django or DRF), else None."""
    return getattr(callback, "view_class", None) or getattr(callback, "cls", None)


def view_path(func: Any) -> str:
    """Dotted path of a view, class-based views by their class (like ResolverMatch)."""
    func = view_class(func) or func
    return f"{func.__module__}.{func.__qualname__}"


def epoch_seconds(value: datetime.datetime) -> float:
    """Seconds since the epoch of a datetime from the database or the ORM.

    A naive value is in UTC when USE_TZ is on (how Django stores it), and in the
    default time zone (TIME_ZONE) when it is off: reading it as UTC would put
    Last-Modified hours off west or east of Greenwich.
    """
    if value.tzinfo is None:
        if settings.USE_TZ:
            value = value.replace(tzinfo=datetime.timezone.utc)
        else:
            value = timezone.make_aware(value, timezone.get_default_timezone())
    return value.timestamp()


def header_values(value: str) -> list[str]:
    """The members of a comma-separated header such as Vary (Django 6.1 dropped
    ``django.utils.cache.cc_delim_re``, 5.2 has no ``split_header_value``)."""
    return [member.strip() for member in value.split(",") if member.strip()]


_logged: set[str] = set()


def log_once(level: int, key: str, message: str, *args: Any, exc_info: bool = False) -> None:
    """Log a runtime fallback once per process and ``key``: a condition that holds for
    every request must not write a line per request."""
    if key not in _logged:
        _logged.add(key)
        logging.getLogger("django_httpcache").log(level, message, *args, exc_info=exc_info)


def forget_logged(prefix: str) -> None:
    """Log the keys starting with ``prefix`` again (tests)."""
    _logged.difference_update([key for key in _logged if key.startswith(prefix)])
