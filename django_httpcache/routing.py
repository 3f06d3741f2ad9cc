"""Which policy a request (or a route) gets: the view's own, HTTPCACHE['RULES'], or
HTTPCACHE['DEFAULT_POLICY'].

``rule_for()`` decides from a path, a URL name and a view, without a request, so the
middleware (``policy_for()``) and ``manage.py httpcache_report`` agree by construction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from .conf import conf
from .httputil import unwrap, view_path
from .policy import CachePolicy, Problem

__all__ = ["RULE_KEYS", "Rule", "declare_policy", "policy_for", "rule_for", "rule_problems", "rules", "view_path"]

logger = logging.getLogger("django_httpcache")

RULE_KEYS = frozenset({"policy", "path", "name", "view"})


@dataclass(frozen=True)
class Rule:
    """One middleware rule: every matcher given must match; first matching rule wins."""

    policy: str
    path: re.Pattern[str] | None = None
    name: str | None = None
    view: str | None = None

    def matches(self, path: str, name: str | None, view: Any) -> bool:
        """Does a route match: its path, URL name (namespace:name) and view callback?"""
        if self.path is not None and not self.path.search(path):
            return False
        if self.name is not None and name != self.name:
            return False
        return self.view is None or (view is not None and view_path(view) == self.view)


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


def _compile() -> tuple[Rule, ...]:
    policies = conf.POLICIES
    compiled = []
    for index, rule in enumerate(conf.RULES):
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
    return tuple(compiled)


def rules() -> tuple[Rule, ...]:
    """The valid rules of HTTPCACHE['RULES'], compiled (until the setting changes)."""
    return conf.memo("rules", _compile)  # type: ignore[no-any-return]


def rule_for(path: str, name: str | None, view: Any) -> tuple[str | None, str]:
    """``(policy name, source)`` of a route without a view-declared policy: the first
    matching rule (source ``"rule <index>"``), else DEFAULT_POLICY (``"default"``),
    else ``(None, "none")``."""
    for index, rule in enumerate(rules()):
        if rule.matches(path, name, view):
            return rule.policy, f"rule {index}"
    default = conf.DEFAULT_POLICY
    if default is not None:
        return default, "default"
    return None, "none"


def declare_policy(request: HttpRequest, policy: CachePolicy, source: str = "view") -> None:
    """A decorator or mixin names the policy of this request (wins over RULES);
    ``source`` says which ("decorator", "mixin"), for traces."""
    # Per-request state lives in the request's __dict__, out of Django's way.
    unwrap(request).__dict__["_httpcache_policy"] = (policy, source)


def policy_for(request: HttpRequest) -> tuple[CachePolicy | None, str]:
    """The effective policy of a request and where it came from.

    A policy declared by the view (decorator, DRF mixin) wins; then the first matching
    rule of HTTPCACHE['RULES']; then DEFAULT_POLICY; else ``(None, "none")``.
    """
    request = unwrap(request)
    found: tuple[CachePolicy | None, str] | None = request.__dict__.get("_httpcache_policy")
    if found is not None:
        return found
    match = request.resolver_match
    url_name, view = (match.view_name, match.func) if match is not None else (None, None)
    name, source = rule_for(request.path_info, url_name, view)
    result: tuple[CachePolicy | None, str] = (None, source)
    if name is not None:
        context = "HTTPCACHE['DEFAULT_POLICY']" if source == "default" else f"HTTPCACHE['RULES'][{source[5:]}]"
        result = (conf.policy(name, context=context), source)
    request.__dict__["_httpcache_policy"] = result
    return result
