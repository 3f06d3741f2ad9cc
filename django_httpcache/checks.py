"""System checks for HTTPCACHE (ids httpcache.E0xx / W0xx, stable; see docs/settings.md)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.module_loading import import_string

from .conf import DEFAULTS, conf, load_etagger
from .dependencies import IGNORED_APPS
from .httputil import MIDDLEWARE_PATH, view_class, view_path
from .metrics import observe_problems
from .policy import CachePolicy, Problem
from .responses import store_problems
from .routing import rule_problems
from .versions.registry import is_tracked, label, model_of, row_fields, tracked_models
from .versions.store import store_problem

MIDDLEWARE = MIDDLEWARE_PATH
GZIP = "django.middleware.gzip.GZipMiddleware"
CONDITIONAL_GET = "django.middleware.http.ConditionalGetMiddleware"
# Cookie setters whose Set-Cookie policy.apply() foresees from the request, in any order
# (cookies.pending_cookie): they need no place of their own in MIDDLEWARE (R21).
FORESEEN_COOKIE_SETTERS = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)
# Problems whose runtime fallback is never wrong (the policy becomes no-store, or the view
# gets no model validator): warnings, so that they do not block migrate or makemigrations
# for the very model or setting they name. The others would be wrong at run time.
SAFE_FALLBACKS = frozenset(
    {
        *(f"httpcache.E00{n}" for n in range(2, 10)),  # an invalid policy: no-store
        *("httpcache.E012", "httpcache.E013", "httpcache.E015", "httpcache.E017"),  # unknown name: no-store
        *("httpcache.E022", "httpcache.E023"),  # no model validator from it
    }
)


def _message(problem: Problem) -> checks.CheckMessage:
    cls = checks.Warning if problem.warning or problem.id in SAFE_FALLBACKS else checks.Error
    return cls(problem.msg, id=problem.id)


def _report(problems: Callable[[], list[Problem]]) -> list[checks.CheckMessage]:
    # The checks report bad values themselves: the runtime fallbacks stay quiet meanwhile.
    with conf.quiet():
        return [_message(p) for p in problems()]


def settings_problems() -> list[Problem]:
    """Every problem of the HTTPCACHE setting (shared with the tests)."""
    user = getattr(settings, "HTTPCACHE", {})
    if not isinstance(user, Mapping):
        return [Problem("httpcache.E001", f"HTTPCACHE must be a dict, not {type(user).__name__}.")]
    problems = []
    unknown = sorted(set(user) - set(DEFAULTS))
    if unknown:
        problems.append(Problem("httpcache.E001", f"HTTPCACHE has unknown keys {unknown}."))
    for key, (_, valid, expected) in DEFAULTS.items():
        if key in user and not valid(user[key]):
            ident = "httpcache.E013" if key == "DEFAULT_POLICY" else "httpcache.E014"
            problems.append(Problem(ident, f"HTTPCACHE[{key!r}] must be {expected}, not {user[key]!r}."))

    policies = user.get("POLICIES", {})
    if isinstance(policies, Mapping):
        for name, value in policies.items():
            problems += CachePolicy.problems(value, name=name)
    else:
        policies = {}
    rules = user.get("RULES", [])
    if isinstance(rules, (list, tuple)):
        for index, rule in enumerate(rules):
            problems += rule_problems(index, rule, policies)
    default = user.get("DEFAULT_POLICY")
    if isinstance(default, str) and default not in policies:
        msg = f"HTTPCACHE['DEFAULT_POLICY'] names {default!r}, which is not in HTTPCACHE['POLICIES']."
        problems.append(Problem("httpcache.E013", msg))
    etaggers = user.get("ETAGGERS", [])
    if isinstance(etaggers, (list, tuple)):
        for index, item in enumerate(etaggers):
            _, problem = load_etagger(index, item)
            problems += [problem] if problem is not None else []
    return problems


@checks.register("httpcache")
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return _report(settings_problems)


def middleware_problems() -> list[Problem]:
    middleware = list(settings.MIDDLEWARE)
    if MIDDLEWARE not in middleware:
        return []
    ours = middleware.index(MIDDLEWARE)
    problems = []
    if GZIP in middleware and middleware.index(GZIP) > ours:
        msg = (
            f"{MIDDLEWARE} must come after {GZIP} in MIDDLEWARE, so that it hashes the "
            "uncompressed body and GZip weakens the ETag (RFC 9110 §8.8.1)."
        )
        problems.append(Problem("httpcache.W001", msg, warning=True))
    late = [name for name in middleware[:ours] if name not in FORESEEN_COOKIE_SETTERS and _sets_cookies(name)]
    if late:
        msg = (
            f"{MIDDLEWARE} must come before {', '.join(late)} in MIDDLEWARE: they set cookies after "
            "it ran, which it cannot foresee, so a cookie-setting response could go out public (R21)."
        )
        problems.append(Problem("httpcache.E024", msg))
    common = "django.middleware.common.CommonMiddleware"
    if common in middleware and middleware.index(common) < ours:
        msg = (
            f"{MIDDLEWARE} should come before {common} in MIDDLEWARE: outside it, CommonMiddleware "
            "adds 'Content-Length: 0' to 304s after the cleanup ran (RFC 9110 §8.6)."
        )
        problems.append(Problem("httpcache.W007", msg, warning=True))
    if CONDITIONAL_GET in middleware:
        msg = f"{CONDITIONAL_GET} is redundant with {MIDDLEWARE} and renders the whole body before a 304."
        problems.append(Problem("httpcache.W004", msg, warning=True))
    return problems


@checks.register("httpcache")
def check_middleware(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return _report(middleware_problems)


def _sets_cookies(path: str) -> bool:
    """Does this middleware class write cookies itself? Read from its source."""
    try:
        source = inspect.getsource(import_string(path))
    except (ImportError, OSError, TypeError):
        return False
    return any(call in source for call in ("set_cookie(", "delete_cookie(", "Set-Cookie"))


def version_problems() -> list[Problem]:
    if conf.VERSION_MODE != "counter":
        return []
    problem = store_problem(conf.VERSION_CACHE)
    return [problem] if problem is not None else []


@checks.register("httpcache")
def check_versions(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return _report(version_problems)


@checks.register("httpcache")
def check_response_store(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return _report(store_problems)


def iter_views(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    """Every URL pattern of the project, with its route."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from iter_views(pattern, route)
        else:
            yield route, pattern


VIEW_METHODS = ("get", "head", "post", "put", "patch", "delete", "options")


def view_functions(callback: Any) -> list[tuple[str, Any]]:
    """The callback and, for class-based views, their handler methods."""
    found = [("", callback)]
    cls = view_class(callback)
    if cls is not None:
        found += [(f".{name}", getattr(cls, name)) for name in VIEW_METHODS if hasattr(cls, name)]
    return found


def view_name(callback: Any) -> str:
    """A view as the runtime log names it: class-based views by their class, also
    behind decorators that did not copy ``view_class`` (not ``View.as_view.<locals>.view``)."""
    return view_path(inspect.unwrap(callback, stop=lambda f: view_class(f) is not None))


def declared_policies(callback: Any) -> list[tuple[str, str, str]]:
    """``(view, where, policy name)`` for each policy a view declares by name; a
    class-based view's method is named ``Class.method``."""
    found = []
    view = view_name(callback)
    for suffix, func in view_functions(callback):
        name = getattr(func, "httpcache_policy", None)
        if isinstance(name, str):
            found.append((view + suffix, "cache_policy()", name))
    cls = view_class(callback)
    for attr in ("cache_policy", "cache_policies"):
        value = getattr(cls, attr, None) if cls is not None else None
        if isinstance(value, str):
            found.append((view, attr, value))
        elif isinstance(value, Mapping):
            found += [(view, f"{attr}[{k!r}]", v) for k, v in value.items() if isinstance(v, str)]
    return found


def models_used(callback: Any) -> list[Any]:
    """Models a view computes validators from (decorator or DRF ConditionalMixin)."""
    found = [m for _, func in view_functions(callback) for m in getattr(func, "httpcache_models", [])]
    cls = view_class(callback)
    if cls is not None and hasattr(cls, "get_collection_validators"):
        queryset = getattr(cls, "queryset", None)
        if queryset is not None:
            found.append(queryset.model)
        deps = getattr(cls, "etag_dependencies", ())
        for value in deps.values() if isinstance(deps, Mapping) else [deps]:
            found += list(value)
    return found


def untracked_problems() -> list[Problem]:
    problems = []
    seen = set()
    for route, pattern in iter_views():
        callback = pattern.callback
        for model in models_used(callback):
            try:
                model = model_of(model)
            except (LookupError, ValueError, AttributeError):
                msg = f"View {view_path(callback)} (route {route!r}) names unknown model {model!r}."
                problems.append(Problem("httpcache.E022", msg))
                continue
            if not is_tracked(model) and (view_path(callback), model) not in seen:
                seen.add((view_path(callback), model))
                msg = (
                    f"View {view_path(callback)} (route {route!r}) takes validators from "
                    f"{label(model)}, which is not tracked: give it a VersionedManager or call "
                    "django_httpcache.versions.track(). Until then it gets no model validators."
                )
                problems.append(Problem("httpcache.E022", msg))
    return problems


def _urls_report(problems: Callable[[], list[Problem]]) -> list[checks.CheckMessage]:
    """``_report`` for the checks that walk the URLconf."""
    try:
        return _report(problems)
    except Exception:  # a broken URLconf is reported by Django's own checks
        return []


@checks.register(checks.Tags.urls, "httpcache")
def check_untracked(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return _urls_report(untracked_problems)


@checks.register(checks.Tags.urls, "httpcache")
def check_views(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return _urls_report(unknown_policy_problems)


def defined_policies() -> Mapping[str, Any]:
    """HTTPCACHE['POLICIES'] as written; of the wrong type (E014) it defines none."""
    user = getattr(settings, "HTTPCACHE", {})
    policies = user.get("POLICIES", {}) if isinstance(user, Mapping) else {}
    return policies if isinstance(policies, Mapping) else {}


def unknown_policy_problems() -> list[Problem]:
    """Views that name a policy HTTPCACHE['POLICIES'] does not define (served no-store)."""
    policies = defined_policies()
    problems = []
    seen = set()
    for route, pattern in iter_views():
        for view, where, name in declared_policies(pattern.callback):
            if name not in policies and (view, where) not in seen:
                seen.add((view, where))
                msg = (
                    f"View {view} ({where}, route {route!r}) names unknown cache policy {name!r}; "
                    "it is served 'no-store' until HTTPCACHE['POLICIES'] defines it."
                )
                problems.append(Problem("httpcache.E015", msg))
    return problems


def model_problems() -> list[Problem]:
    """Version fields that cannot do their job on tracked models (R24)."""
    problems = []
    names = (
        ("VERSION_FIELD", conf.VERSION_FIELD, models.IntegerField),
        ("UPDATED_FIELD", conf.UPDATED_FIELD, models.DateTimeField),
    )
    for model in sorted(tracked_models(), key=label):
        for key, name, kind in names:
            try:
                field = model._meta.get_field(name) if name else None
            except FieldDoesNotExist:
                continue
            if field is None:
                continue
            if getattr(field, "primary_key", False) or not isinstance(field, kind):
                what = "the primary key" if getattr(field, "primary_key", False) else f"a {type(field).__name__}"
                msg = (
                    f"HTTPCACHE[{key!r}] = {name!r} is {what} on {label(model)}: it is not used as a "
                    f"version field (a version must be a non-key {kind.__name__})."
                )
                problems.append(Problem("httpcache.E023", msg))
        version, updated = row_fields(model)
        if updated is not None and version is None and not getattr(updated, "auto_now", False):
            msg = (
                f"{label(model)}.{updated.name} has no auto_now: the app moves it on every save of the "
                "model, but writes that bypass save() (raw SQL, another program) leave it behind. Add "
                "auto_now=True, or a version field (HTTPCACHE['VERSION_FIELD'])."
            )
            problems.append(Problem("httpcache.W008", msg, warning=True))
    return problems


@checks.register(checks.Tags.models, "httpcache")
def check_models(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return _report(model_problems)


def serializer_problems() -> list[Problem]:
    """Fields of a conditional DRF view's serializer that read an untracked model:
    observation sees the read, but no version covers it, so the view's responses get
    no model validator."""
    problems = []
    seen: set[tuple[str, str]] = set()
    for route, pattern in iter_views():
        cls = view_class(pattern.callback)
        serializer = getattr(cls, "serializer_class", None)
        queryset = getattr(cls, "queryset", None)
        if serializer is None or queryset is None or not hasattr(cls, "get_collection_validators"):
            continue
        for field_name, model in untracked_sources(serializer, queryset.model):
            key = (view_path(cls), field_name)
            if key not in seen:
                seen.add(key)
                msg = (
                    f"View {view_path(cls)} (route {route!r}): serializer field {field_name!r} reads "
                    f"{label(model)}, which is not tracked, so its responses get no model validator. "
                    "Give that model a VersionedManager or call django_httpcache.versions.track()."
                )
                problems.append(Problem("httpcache.W009", msg, warning=True))
    return problems


def untracked_sources(serializer: Any, model: type[models.Model], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(field name, untracked model)`` for every serializer field whose source
    crosses a relation into an untracked model."""
    try:
        fields = serializer().fields
    except Exception:  # a serializer that needs context to build its fields
        return
    for name, field in fields.items():
        source = getattr(field, "source", None) or name
        current: Any = model
        for part in [] if source == "*" else source.split("."):
            try:
                relation = current._meta.get_field(part)
            except (FieldDoesNotExist, AttributeError):
                break
            target = getattr(relation, "related_model", None)
            if target is None:
                break
            current = target
            if not is_tracked(current) and current._meta.app_label not in IGNORED_APPS:
                yield prefix + name, current
                break
        child = getattr(field, "child", field)
        if hasattr(child, "fields") and current is not model and is_tracked(current):
            yield from untracked_sources(type(child), current, f"{prefix}{name}.")


@checks.register(checks.Tags.urls, "httpcache")
def check_serializers(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return _urls_report(serializer_problems)


@checks.register("httpcache")
def check_observing(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Prometheus metrics and the shared stats (docs/observe.md)."""
    return [_message(p) for p in observe_problems()]
