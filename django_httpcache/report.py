"""The cache matrix of a project: every URL pattern, its policy, validators and Vary.

Used by ``manage.py httpcache_report``. Everything here is read from the URLconf,
the views and the settings, without sending requests, so it describes the GET of
each route as the app would answer it for an anonymous client.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.urls import URLPattern, get_resolver

from .checks import iter_views
from .conf import conf
from .httputil import MIDDLEWARE_PATH, view_class, view_path
from .policy import CachePolicy
from .routing import rule_for
from .versions import store

__all__ = ["Row", "rows"]

MIDDLEWARE = MIDDLEWARE_PATH
# Permissions whose GET answer depends on who asks.
USER_PERMISSIONS = ("IsAuthenticated", "IsAdminUser", "DjangoModelPermissions", "DjangoObjectPermissions")


@dataclass
class Row:
    route: str
    name: str
    view: str
    policy: str
    source: str
    cache_control: str
    validators: str
    vary: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sample_path(route: str) -> str:
    """A concrete path for a route, for path rules: converters become sample values."""
    path = route.replace("^", "").replace("$", "").replace("\\", "")
    path = re.sub(r"<(?:int:)?\w+>|\(\?P<\w+>[^)]*\)", "1", path)
    path = re.sub(r"<\w+:\w+>", "x", path)
    return "/" + path.lstrip("/")


def _get_handler(callback: Any) -> tuple[Any, str | None]:
    """The function that answers GET, and the DRF action name if any."""
    actions = getattr(callback, "actions", None)
    cls = view_class(callback)
    if actions and cls is not None:
        action = actions.get("get")
        return (getattr(cls, action, None) if action else None), action
    if cls is not None:
        return getattr(cls, "get", None), None
    return callback, None


def _drf_policy(cls: Any, action: str | None) -> str | None:
    policies = getattr(cls, "cache_policies", {}) or {}
    return policies.get(action or "get") or policies.get("get") or getattr(cls, "cache_policy", None)


def _rule_policy(route: str, name: str, callback: Any) -> tuple[str | None, str]:
    policy, source = rule_for(sample_path(route), name, callback)
    return policy, "DEFAULT_POLICY" if source == "default" else source


def _validators(callback: Any, handler: Any, cls: Any, action: str | None, policy: CachePolicy | None) -> str:
    # Decorators mark what conditional() takes; DRF views say it themselves.
    kind = getattr(handler, "httpcache_conditional", None) or getattr(callback, "httpcache_conditional", None)
    mode = conf.VERSION_MODE
    if mode == "counter" and store.counter_store() is None:
        mode = "aggregate: counter mode refused, see manage.py check"
    if kind is None and cls is not None and hasattr(cls, "conditional_kind"):
        kind = cls.conditional_kind(action)
        if getattr(cls, "version_mode", None) == "aggregate":  # a view may opt out, not in
            mode = "aggregate"
    labels = {
        "queryset": f"model versions: collection ({mode})",
        "collection": f"model versions: collection ({mode})",
        "instance": "model versions: instance",
        "values": "conditional(): view's values",
        "view": "get_validators()",
    }
    if kind in labels:
        return labels[kind]
    if MIDDLEWARE in settings.MIDDLEWARE and conf.BODY_ETAG and not (policy and policy.no_store):
        return "body hash (middleware; not for streamed responses)"
    return "none"


def _reads_user(cls: Any, handler: Any) -> bool:
    if cls is not None:
        names = {p.__name__ for p in getattr(cls, "permission_classes", ())}
        if names & set(USER_PERMISSIONS):
            return True
    for func in (handler, getattr(cls, "get_queryset", None)):
        try:
            source = inspect.getsource(func) if func is not None else ""
        except (OSError, TypeError):
            source = ""
        if "request.user" in source:
            return True
    return False


def _vary(policy: CachePolicy | None, cls: Any) -> list[str]:
    vary: list[str] = []
    if cls is not None and len(getattr(cls, "renderer_classes", ())) > 1:
        vary.append("Accept")
    if policy is not None:
        vary += list(policy.vary)
        if policy.is_private and not policy.no_store:
            vary += ["Authorization", "Cookie"]
    return list(dict.fromkeys(vary))


def rows() -> Iterator[Row]:
    for route, pattern in iter_views():
        callback = pattern.callback
        name = _full_name(route, pattern)
        handler, action = _get_handler(callback)
        cls = view_class(callback)
        declared = getattr(handler, "httpcache_policy", None) or getattr(callback, "httpcache_policy", None)
        policy_name: str | None
        if declared is not None:
            policy_name, source = (declared if isinstance(declared, str) else "(inline)"), "decorator"
        elif cls is not None and _drf_policy(cls, action):
            policy_name, source = _drf_policy(cls, action), "DRF mixin"
        else:
            policy_name, source = _rule_policy(route, name, callback)
        policy = None
        if isinstance(declared, CachePolicy):
            policy = declared
        elif policy_name is not None:
            policy = conf.policies().get(policy_name) or CachePolicy.fail_safe(policy_name)
        validators = _validators(callback, handler, cls, action, policy)
        warnings = []
        if policy is None:
            warnings.append("no policy")
        elif policy_name not in conf.policies() and not isinstance(declared, CachePolicy):
            warnings.append(f"unknown policy {policy_name!r} (served as no-store)")
        if policy is not None and (policy.public or policy.s_maxage) and _reads_user(cls, handler):
            warnings.append("public policy on a view that reads the user (downgraded per request)")
        if validators == "none" and policy is not None and not policy.no_store:
            warnings.append("no validator: clients cannot revalidate")
        yield Row(
            route=_display(route),
            name=name,
            view=view_path(callback),
            policy=policy_name or "—",
            source=source,
            cache_control=policy.header if policy is not None else "",
            validators=validators,
            vary=_vary(policy, cls),
            warnings=warnings,
        )


def _display(route: str) -> str:
    """The route as a reader expects it: regex groups as <name>, anchors dropped."""
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", route)
    route = re.sub(r"(^|/)\^", r"\1", route).replace("$", "").replace("\\", "")
    return "/" + route.lstrip("/")


def _full_name(route: str, pattern: URLPattern) -> str:
    """namespace:name, found by resolving a sample path of the route."""
    try:
        match = get_resolver().resolve(sample_path(route))
    except Exception:
        return pattern.name or ""
    if match.func is not pattern.callback:
        return pattern.name or ""
    return match.view_name if match.url_name else ""
