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
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils.module_loading import import_string

from .policy import CachePolicy, PolicyError, Problem

logger = logging.getLogger("django_httpcache")

VERSION_MODES = ("aggregate", "counter")


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


def _is_seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


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
}


class HttpCacheSettings:
    """Attribute access to HTTPCACHE keys with defaults; invalid values fall back."""

    def __init__(self) -> None:
        self.reset()

    def user_settings(self) -> Mapping[str, Any]:
        value = getattr(settings, "HTTPCACHE", None)
        return value if isinstance(value, Mapping) else {}

    def __getattr__(self, key: str) -> Any:
        # Only reached for keys not cached in the instance dict (see reset()).
        try:
            default, valid, _ = DEFAULTS[key]
        except KeyError:
            raise AttributeError(f"Invalid HTTPCACHE setting: {key!r}") from None
        value = self.user_settings().get(key, default)
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

    # -- derived objects -----------------------------------------------------------

    def policies(self) -> dict[str, CachePolicy]:
        if self._policies is None:
            compiled = {}
            for name, value in self.POLICIES.items():
                if not isinstance(name, str):
                    logger.error("HTTPCACHE['POLICIES'] key %r is not a string; ignored (httpcache.E017).", name)
                    continue
                try:
                    compiled[name] = CachePolicy.parse(value, name=name)
                except PolicyError as exc:
                    logger.error("%s Responses using it get 'no-store' until it is fixed.", exc)
                    compiled[name] = CachePolicy.fail_safe(name)
            self._policies = compiled
        return self._policies

    def policy(self, name: str, *, context: str = "") -> CachePolicy:
        """The named policy; an unknown name gets the fail-safe 'no-store'."""
        try:
            return self.policies()[name]
        except (KeyError, TypeError):
            pass
        key = f"{name!r}@{context}"
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


@receiver(setting_changed)
def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in ("HTTPCACHE", "CACHES"):
        conf.reset()
