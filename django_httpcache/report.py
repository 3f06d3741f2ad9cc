"""The cache matrix of a project: every URL pattern, its policy, validators and Vary.

Used by ``manage.py httpcache_report``. Everything here is read from the URLconf,
the views and the settings, without sending requests, so it describes the GET of
each route as the app would answer it for an anonymous client; observed dependencies
come from what renders recorded (in this process, and in the shared table).
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.urls import URLPattern, get_resolver

from . import dependencies
from .cdn.tags import cdn_header_line
from .checks import declared_policies, defined_policies, iter_views, models_used, view_name
from .conf import conf
from .httputil import MIDDLEWARE_PATH, view_class
from .policy import CachePolicy
from .release import installed_roots
from .routing import rule_for
from .versions import store
from .versions.registry import is_tracked, label, model_of

__all__ = ["Policies", "Row", "policies", "rows"]

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
    #: the key observed dependencies are recorded under ("" when the view has none)
    view_key: str = ""
    #: "app.model (declared)", "app.model (observed <when>)"
    dependencies: list[str] = field(default_factory=list)
    #: the top-level package of a view installed from outside the project (admin, ...)
    third_party: str = ""
    #: what its surrogate keys are made of: model labels, "<label>.<pk>" for a detail
    tags: list[str] = field(default_factory=list)
    #: the tag header it sends behind the configured CDN, and whether it fits (docs/cdn.md)
    tag_header: str = ""

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


def _validators(
    callback: Any, handler: Any, cls: Any, action: str | None, policy: CachePolicy | None, untracked: list[str]
) -> str:
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
    body = MIDDLEWARE in settings.MIDDLEWARE and conf.BODY_ETAG and not (policy and policy.no_store)
    if kind in labels and kind != "view" and untracked:
        # What runtime does: no model validator from an untracked model (httpcache.E022).
        fallback = "body hash (middleware)" if body else "none"
        return f"{fallback}: {', '.join(untracked)} not tracked, so no {labels[kind]}"
    if kind in labels:
        return labels[kind]
    if body:
        return "body hash (middleware; not for streamed responses)"
    return "none"


def _view_key(callback: Any, handler: Any, cls: Any, action: str | None) -> str:
    """The key a conditional view's observed dependencies are recorded under."""
    key = getattr(handler, "httpcache_view_key", None) or getattr(callback, "httpcache_view_key", None)
    if isinstance(key, str):
        return key
    if cls is not None and hasattr(cls, "conditional_kind") and cls.conditional_kind(action) is not None:
        return f"{view_name(callback)}:{action or 'get'}"  # as ConditionalMixin.view_key()
    return ""


def _labels(found: Iterable[Any]) -> tuple[list[str], list[str]]:
    """Labels of these models: tracked ones, and untracked (or unknown) ones."""
    tracked: set[str] = set()
    untracked: set[str] = set()
    for item in found:
        try:
            model = model_of(item)
        except (LookupError, ValueError, AttributeError):
            untracked.add(str(item))
            continue
        (tracked if is_tracked(model) else untracked).add(label(model))
    return sorted(tracked), sorted(untracked)


def _dependencies(callback: Any, key: str, declared: list[str]) -> list[str]:
    """Declared models, then those observed here or by any process (with when)."""
    found = dict.fromkeys(declared, "declared")
    if key:
        local = dependencies.known(key) if key in dependencies.everything_known() else None
        for known, where in ((dependencies.shared_known(key), ""), (local, ", this process")):
            for name in sorted(known.labels if known is not None else ()):
                when = known.observed_at.get(name, "") if known is not None else ""
                found.setdefault(name, f"observed{' ' + when if when else ''}{where}")
    return [f"{name} ({how})" for name, how in found.items()]


def _third_party(callback: Any) -> str:
    """The top-level package of a view installed from outside the project, else ""."""
    module = getattr(inspect.unwrap(view_class(callback) or callback), "__module__", "") or ""
    top = module.split(".")[0]
    path = getattr(sys.modules.get(top), "__file__", None)
    if path is None:
        return ""
    resolved = Path(path).resolve()
    return top if any(resolved.is_relative_to(root) for root in installed_roots()) else ""


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
        tracked, untracked = _labels(models_used(callback))
        validators = _validators(callback, handler, cls, action, policy, untracked)
        warnings = []
        if policy is None:
            warnings.append("no policy")
        elif policy_name not in conf.policies() and not isinstance(declared, CachePolicy):
            warnings.append(f"unknown policy {policy_name!r} (served as no-store)")
        if policy is not None and (policy.public or policy.s_maxage) and _reads_user(cls, handler):
            warnings.append("public policy on a view that reads the user (downgraded per request)")
        if validators.startswith("none") and policy is not None and not policy.no_store:
            warnings.append("no validator: clients cannot revalidate")
        key = _view_key(callback, handler, cls, action)
        tags = _tags(callback, key, tracked, validators)
        tag_header = cdn_header_line(tags)
        if tag_header and not tag_header.endswith("(fits)"):
            warnings.append(f"surrogate keys over the CDN budget: {tag_header}")
        if policy is not None and policy.cdn is not None and not validators.startswith("model versions"):
            warnings.append("a CDN lifetime without surrogate keys: no purge reaches it")
        yield Row(
            route=_display(route),
            name=name,
            view=view_name(callback),
            policy=policy_name or "—",
            source=source,
            cache_control=policy.header if policy is not None else "",
            validators=validators,
            vary=_vary(policy, cls),
            warnings=warnings,
            view_key=key,
            dependencies=_dependencies(callback, key, [*tracked, *untracked]),
            third_party="" if source.startswith("rule") else _third_party(callback),
            tags=tags,
            tag_header=tag_header,
        )


def _tags(callback: Any, key: str, tracked: list[str], validators: str) -> list[str]:
    """Model labels its validators cover (declared and observed), and its object's key."""
    if not validators.startswith("model versions"):
        return []
    known = dependencies.shared_known(key) if key else None
    labels = sorted({*tracked, *(known.labels if known is not None else ())})
    own = [label(model_of(m)) for m in models_used(callback)[:1]]
    if not validators.endswith("instance"):
        return labels
    # A detail covers its row, and its model only when it reads other rows of it.
    observed = known.labels if known is not None else frozenset()
    return [name for name in labels if name not in own or name in observed] + [f"{name}.<pk>" for name in own]


@dataclass
class Policies:
    """The Policies section: defined ones with their header, unused and undefined names."""

    defined: dict[str, str]
    unused: list[str]
    #: name -> where it is used (views, rules, DEFAULT_POLICY)
    undefined: dict[str, list[str]]


def policies() -> Policies:
    """Which policies the project defines, which of them nothing uses, and which names
    are used without a definition (a typo such as ``pubilc``: served ``no-store``)."""
    defined = defined_policies()
    used: dict[str, list[str]] = {}
    for _, pattern in iter_views():
        for view, where, name in declared_policies(pattern.callback):
            used.setdefault(name, []).append(f"{view} ({where})")
    rules = conf.user_settings().get("RULES", [])
    for index, rule in enumerate(rules if isinstance(rules, (list, tuple)) else []):
        if isinstance(rule, dict) and isinstance(rule.get("policy"), str):
            used.setdefault(rule["policy"], []).append(f"HTTPCACHE['RULES'][{index}]")
    default = conf.user_settings().get("DEFAULT_POLICY")
    if isinstance(default, str):
        used.setdefault(default, []).append("HTTPCACHE['DEFAULT_POLICY']")
    compiled = conf.policies()
    return Policies(
        defined={name: compiled[name].header for name in sorted(compiled)},
        unused=sorted(name for name in compiled if name not in used),
        undefined={name: sorted(set(where)) for name, where in sorted(used.items()) if name not in defined},
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
