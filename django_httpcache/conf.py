"""The ``HTTPCACHE`` setting: defaults, validation, and objects derived from it.

Values are read at use time, so ``override_settings(HTTPCACHE=...)`` just works;
parsed policies, loaded etaggers and whatever other modules derive from the setting
(``memo()``: the compiled rules of ``routing``) are cached until the ``setting_changed``
signal says HTTPCACHE changed. Validation is shared with the system checks: a bad value is
a check error at start-up and, if it still reaches a request, a logged error with a
safe fallback, never a 500.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.module_loading import import_string

from . import policy
from .policy import CachePolicy, PolicyError, Problem

logger = logging.getLogger("django_httpcache")

VERSION_MODES = ("aggregate", "counter")

# Set while system checks run: they report bad values themselves, so the runtime
# fallbacks neither log (no log lines inside ``manage.py check`` output) nor cache.
_quiet: ContextVar[bool] = ContextVar("httpcache_quiet", default=False)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_algorithm(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        hashlib.new(value, usedforsecurity=False)
    except (ValueError, TypeError):
        return False
    return not value.startswith("shake")  # variable-length digests need a size


def _is_optional_name(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _is_optional_seconds(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value > 0)


def _is_networks(value: Any) -> bool:
    if not isinstance(value, (list, tuple)):
        return False
    try:
        for item in value:
            ipaddress.ip_network(item, strict=False)
    except (TypeError, ValueError):
        return False
    return True


def _is_release(value: Any) -> bool:
    return value is None or value is False or (isinstance(value, str) and bool(value.strip()))


def _is_seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


#: HTTPCACHE['RESPONSE_STORE'] keys: (default, validator, what a valid value is).
STORE_DEFAULTS: dict[str, tuple[Any, Callable[[Any], bool], str]] = {
    "CACHE": ("default", lambda v: isinstance(v, str), "a CACHES alias"),
    "MAX_ENTRY_BYTES": (1_000_000, lambda v: v is not None and _is_optional_seconds(v), "a positive integer"),
    "TIMEOUT": (3600, lambda v: v is not None and _is_optional_seconds(v), "a positive integer of seconds"),
    "LOCK_TIMEOUT": (10, lambda v: _is_seconds(v) and v > 0, "a positive number of seconds"),
    "PRIVATE": (False, _is_bool, "True or False"),
}


def store_settings_problems(value: Any) -> list[str]:
    """What is wrong with a HTTPCACHE['RESPONSE_STORE'] value, one message per key."""
    if not isinstance(value, Mapping):
        return [f"HTTPCACHE['RESPONSE_STORE'] must be a dict, not {type(value).__name__}."]
    found = [f"HTTPCACHE['RESPONSE_STORE'] has the unknown key {key!r}." for key in value if key not in STORE_DEFAULTS]
    for key, (_, valid, expected) in STORE_DEFAULTS.items():
        if key in value and not valid(value[key]):
            found.append(f"HTTPCACHE['RESPONSE_STORE'][{key!r}] must be {expected}, not {value[key]!r}.")
    return found


# key: (default, validator, what a valid value is). POLICIES, DEFAULT_POLICY and ETAGGERS
# get deeper checks of their own below, RULES in ``routing``.
DEFAULTS: dict[str, tuple[Any, Callable[[Any], bool], str]] = {
    "POLICIES": ({}, lambda v: isinstance(v, Mapping), "a dict of name -> policy"),
    "DEFAULT_POLICY": (None, _is_optional_name, "a policy name or None"),
    "RULES": ([], lambda v: isinstance(v, (list, tuple)), "a list of rule dicts"),
    "BODY_ETAG": (True, _is_bool, "True or False"),
    "BODY_ETAG_ALGORITHM": ("sha1", _is_algorithm, "a fixed-size hashlib algorithm name"),
    "VERSION_MODE": ("aggregate", lambda v: v in VERSION_MODES, "'aggregate' or 'counter'"),
    "VERSION_CACHE": ("default", lambda v: isinstance(v, str), "a CACHES alias"),
    "VERSION_TIMEOUT": (None, _is_optional_seconds, "None or a positive number of seconds"),
    "VERSION_FIELD": (None, _is_optional_name, "a field name or None"),
    "UPDATED_FIELD": ("updated_at", _is_optional_name, "a field name or None"),
    "ETAGGERS": ([], lambda v: isinstance(v, (list, tuple)), "a list of callables or dotted paths"),
    "REQUIRE_IF_MATCH": (False, _is_bool, "True or False"),
    "LAST_MODIFIED_SETTLE": (60, _is_seconds, "a non-negative number of seconds"),
    "RELEASE": (None, _is_release, "a release name, None (derived) or False (none)"),
    # Its keys are checked one by one (store_settings_problems, httpcache.E045).
    "RESPONSE_STORE": ({}, lambda v: isinstance(v, Mapping), "a dict (see docs/response-store.md)"),
    # Observing (docs/observe.md): Prometheus counters, the response headers, shared stats.
    "METRICS": (False, _is_bool, "True or False"),
    "METRICS_ALLOW": (["127.0.0.0/8", "::1/128"], _is_networks, "a list of IP networks, e.g. '10.0.0.0/8'"),
    "RESPONSE_HEADERS": (None, lambda v: v is None or _is_bool(v), "None (follow DEBUG), True or False"),
    "STATS_CACHE": (None, _is_optional_name, "None or a CACHES alias"),
    "STATS_WINDOW": (3600, lambda v: _is_optional_seconds(v) and v is not None, "a positive integer of seconds"),
    # Behind a CDN (docs/cdn.md): surrogate keys, purge after commit; keys checked in cdn.checks.
    "CDN": ({}, lambda v: isinstance(v, Mapping), "a dict (see docs/cdn.md)"),
}


class HttpCacheSettings:
    """Attribute access to HTTPCACHE keys with defaults; invalid values fall back."""

    _logged_type: bool  # HTTPCACHE of the wrong type was logged (once per setting)

    def __init__(self) -> None:
        self.reset()

    def user_settings(self) -> Mapping[str, Any]:
        value = getattr(settings, "HTTPCACHE", None)
        if isinstance(value, Mapping):
            return value
        if value is not None and not self._logged_type and not _quiet.get():
            self._logged_type = True
            logger.error("HTTPCACHE = %r is not a dict; using the defaults (see manage.py check).", value)
        return {}

    def __getattr__(self, key: str) -> Any:
        # Only reached for keys not cached in the instance dict (see reset()).
        try:
            default, valid, _ = DEFAULTS[key]
        except KeyError:
            raise AttributeError(f"Invalid HTTPCACHE setting: {key!r}") from None
        value = self.user_settings().get(key, default)
        if not valid(value) and _quiet.get():
            return default
        if not valid(value):
            logger.error("HTTPCACHE[%r] = %r is invalid; using %r (see manage.py check).", key, value, default)
            value = default
        setattr(self, key, value)  # cached until the setting changes
        return value

    def reset(self) -> None:
        """Forget every cached value; called when the HTTPCACHE setting changes."""
        for key in DEFAULTS:
            self.__dict__.pop(key, None)
        self._policies: dict[str, CachePolicy] | None = None
        self._unknown: dict[str, CachePolicy] = {}
        self._memo: dict[str, Any] = {}
        self._etaggers: tuple[Callable[[HttpRequest], Any], ...] | None = None
        self._logged_type = False

    @contextmanager
    def quiet(self) -> Iterator[None]:
        """Read settings without the runtime fallbacks' logging (for system checks)."""
        token = _quiet.set(True)
        try:
            yield
        finally:
            _quiet.reset(token)

    # -- derived objects -----------------------------------------------------------

    def policies(self) -> dict[str, CachePolicy]:
        if self._policies is not None:
            return self._policies
        quiet = _quiet.get()
        compiled = {}
        for name, value in self.POLICIES.items():
            if not isinstance(name, str):
                if not quiet:
                    logger.error("HTTPCACHE['POLICIES'] key %r is not a string; ignored (httpcache.E017).", name)
                continue
            try:
                compiled[name] = CachePolicy.parse(value, name=name)
            except PolicyError as exc:
                if not quiet:
                    logger.error("%s Responses using it get 'no-store' until it is fixed.", exc)
                compiled[name] = CachePolicy.fail_safe(name)
        if not quiet:
            self._policies = compiled
        return compiled

    def _surrogate_control(self) -> bool:
        cdn = self.CDN
        return isinstance(cdn, Mapping) and bool(cdn.get("SURROGATE_CONTROL"))

    def policy(self, name: str, *, context: str = "") -> CachePolicy:
        """The named policy; an unknown name gets the fail-safe 'no-store'."""
        try:
            return self.policies()[name]
        except (KeyError, TypeError):
            pass
        key = f"{name!r}@{context}"
        if _quiet.get():
            return CachePolicy.fail_safe(str(name))
        if key not in self._unknown:
            where = f" (used by {context})" if context else ""
            logger.error("Unknown cache policy %r%s; using 'no-store'.", name, where)
            self._unknown[key] = CachePolicy.fail_safe(str(name))
        return self._unknown[key]

    def memo(self, key: str, build: Callable[[], Any]) -> Any:
        """``build()``, cached until the setting changes (for objects derived elsewhere)."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def etaggers(self) -> tuple[Callable[[HttpRequest], Any], ...]:
        if self._etaggers is None:
            loaded = []
            for index, item in enumerate(self.ETAGGERS):
                func, problem = load_etagger(index, item)
                if problem is not None:
                    logger.error("%s Ignored.", problem.msg)
                else:
                    loaded.append(func)
            self._etaggers = tuple(loaded)
        return self._etaggers


def load_etagger(index: int, item: Any) -> tuple[Any, Problem | None]:
    """An ETAGGERS entry (a callable or its dotted path): the callable, or the problem."""
    where = f"HTTPCACHE['ETAGGERS'][{index}]"
    try:
        func = import_string(item) if isinstance(item, str) else item
    except ImportError as exc:
        return None, Problem("httpcache.E016", f"{where}: cannot import {item!r} ({exc}).")
    if not callable(func):
        return None, Problem("httpcache.E016", f"{where}: {item!r} is not callable.")
    return func, None


conf = HttpCacheSettings()
policy.surrogate_control = conf._surrogate_control  # apply() reads it; policy cannot import conf


@receiver(setting_changed)
def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in ("HTTPCACHE", "CACHES"):
        conf.reset()
