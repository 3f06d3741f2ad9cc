"""The ``HTTPCACHE`` setting: defaults, validation, and objects derived from it.

Values are read at use time, so ``override_settings(HTTPCACHE=...)`` just works;
parsed policies and compiled rules are cached until the ``setting_changed`` signal
says HTTPCACHE changed. Validation is shared with the system checks: a bad value is
a check error at start-up and, if it still reaches a request, a logged error with a
safe fallback, never a 500.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

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


# key: (default, validator, what a valid value is). POLICIES, RULES, DEFAULT_POLICY and
# ETAGGERS get deeper checks of their own below.
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


@dataclass(frozen=True)
class Rule:
    """One middleware rule: every matcher given must match; first matching rule wins."""

    policy: str
    path: re.Pattern[str] | None = None
    name: str | None = None
    view: str | None = None

    def matches(self, request: HttpRequest) -> bool:
        if self.path is not None and not self.path.search(request.path_info):
            return False
        if self.name is None and self.view is None:
            return True
        match = request.resolver_match
        if match is None:
            return False
        if self.name is not None and match.view_name != self.name:
            return False
        return not (self.view is not None and view_path(match.func) != self.view)


def view_path(func: Any) -> str:
    """Dotted path of a view, class-based views by their class (like ResolverMatch)."""
    func = getattr(func, "view_class", None) or getattr(func, "cls", None) or func
    return f"{func.__module__}.{func.__qualname__}"


RULE_KEYS = frozenset({"policy", "path", "name", "view"})


def rule_problems(index: int, rule: Any, policies: Mapping[str, Any]) -> list[Problem]:
    where = f"HTTPCACHE['RULES'][{index}]"
    if not isinstance(rule, Mapping):
        return [Problem("httpcache.E010", f"{where} must be a dict, not {type(rule).__name__}.")]
    problems = []
    unknown = set(rule) - RULE_KEYS
    if unknown:
        problems.append(Problem("httpcache.E010", f"{where}: unknown keys {sorted(unknown)}."))
    if not {"path", "name", "view"} & set(rule):
        problems.append(Problem("httpcache.E010", f"{where} needs one of 'path', 'name' or 'view'."))
    for key in ("name", "view"):
        if key in rule and not isinstance(rule[key], str):
            problems.append(Problem("httpcache.E010", f"{where}: {key!r} must be a string."))
    if "path" in rule:
        try:
            re.compile(rule["path"])
        except (re.error, TypeError) as exc:
            problems.append(Problem("httpcache.E011", f"{where}: bad path regex {rule['path']!r}: {exc}."))
    policy = rule.get("policy")
    if not isinstance(policy, str) or policy not in policies:
        msg = f"{where} names policy {policy!r}, which is not in HTTPCACHE['POLICIES']."
        problems.append(Problem("httpcache.E012", msg))
    return problems


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
        self._rules: tuple[Rule, ...] | None = None
        self._etaggers: tuple[Callable[[HttpRequest], Any], ...] | None = None

    # -- derived objects -----------------------------------------------------------

    def policies(self) -> dict[str, CachePolicy]:
        if self._policies is None:
            compiled = {}
            for name, value in self.POLICIES.items():
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

    def rules(self) -> tuple[Rule, ...]:
        if self._rules is None:
            policies = self.POLICIES
            compiled = []
            for index, rule in enumerate(self.RULES):
                problems = rule_problems(index, rule, policies)
                if problems:
                    logger.error("%s This rule is ignored.", " ".join(p.msg for p in problems))
                    continue
                path = rule.get("path")
                compiled.append(
                    Rule(
                        policy=rule["policy"],
                        path=re.compile(path) if path is not None else None,
                        name=rule.get("name"),
                        view=rule.get("view"),
                    )
                )
            self._rules = tuple(compiled)
        return self._rules

    def etaggers(self) -> tuple[Callable[[HttpRequest], Any], ...]:
        if self._etaggers is None:
            loaded = []
            for item in self.ETAGGERS:
                try:
                    func = import_string(item) if isinstance(item, str) else item
                except ImportError as exc:
                    logger.error("HTTPCACHE['ETAGGERS']: cannot import %r (%s); ignored.", item, exc)
                    continue
                if callable(func):
                    loaded.append(func)
                else:
                    logger.error("HTTPCACHE['ETAGGERS']: %r is not callable; ignored.", item)
            self._etaggers = tuple(loaded)
        return self._etaggers


conf = HttpCacheSettings()


@receiver(setting_changed)
def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in ("HTTPCACHE", "CACHES"):
        conf.reset()


def unwrap(request: Any) -> HttpRequest:
    """The Django request behind a DRF ``Request`` (or the request itself)."""
    return cast(HttpRequest, getattr(request, "_request", request))


def declare_policy(request: HttpRequest, policy: CachePolicy) -> None:
    """A decorator or mixin names the policy of this request (wins over RULES)."""
    # Per-request state lives in the request's __dict__, out of Django's way.
    unwrap(request).__dict__["_httpcache_policy"] = (policy, "view")


def policy_for(request: HttpRequest) -> tuple[CachePolicy | None, str]:
    """The effective policy of a request and where it came from.

    A policy declared by the view (decorator, DRF mixin) wins; then the first matching
    rule of HTTPCACHE['RULES']; then DEFAULT_POLICY; else ``(None, "none")``.
    """
    request = unwrap(request)
    found: tuple[CachePolicy | None, str] | None = request.__dict__.get("_httpcache_policy")
    if found is not None:
        return found
    result: tuple[CachePolicy | None, str] = (None, "none")
    for index, rule in enumerate(conf.rules()):
        if rule.matches(request):
            result = (conf.policy(rule.policy, context=f"HTTPCACHE['RULES'][{index}]"), f"rule {index}")
            break
    else:
        default = conf.DEFAULT_POLICY
        if default is not None:
            result = (conf.policy(default, context="HTTPCACHE['DEFAULT_POLICY']"), "default")
    request.__dict__["_httpcache_policy"] = result
    return result
