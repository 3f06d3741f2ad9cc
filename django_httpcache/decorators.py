"""View decorators: ``cache_policy`` and ``conditional``.

Both work on sync and async function views and directly on class-based-view methods
(no ``method_decorator`` needed). They only gather inputs: the policy goes through
``policy.apply()``, the decision through ``preconditions.evaluate()``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from . import preconditions
from .conf import conf
from .httputil import REPLACING_METHODS, SAFE_METHODS, view_path
from .policy import CachePolicy, PolicyError, apply
from .preconditions import Validators
from .routing import declare_policy, policy_for
from .validators import after_write, for_instance, for_queryset, for_values, variant_key

__all__ = ["cache_policy", "conditional"]

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])
ValueFunc = Callable[..., Any | Awaitable[Any]]
SAFE_OR_REPLACED = SAFE_METHODS | REPLACING_METHODS


def _split(args: tuple[Any, ...], label: str) -> tuple[HttpRequest, tuple[Any, ...]]:
    """The request and the URL arguments, for function views and for methods."""
    if args and hasattr(args[0], "META"):
        return args[0], args[1:]
    if len(args) > 1 and hasattr(args[1], "META"):
        return args[1], args[2:]
    raise TypeError(f"{label}: no request among the view's arguments {args!r}.")


def cache_policy(name: str | None = None, /, **directives: Any) -> Callable[[ViewFunc], ViewFunc]:
    """Apply a named policy (``cache_policy("catalog")``) or an inline one
    (``cache_policy(public=True, max_age=60)``) to every response of the view,
    304s included."""
    if (name is None) == (not directives):
        raise TypeError("cache_policy() takes either a policy name or directives.")

    def decorator(view: ViewFunc) -> ViewFunc:
        label = view_path(view)
        inline: CachePolicy | None = None
        if directives:
            try:
                inline = CachePolicy.parse(directives, name=f"<inline policy of {label}>")
            except PolicyError as exc:
                raise ImproperlyConfigured(f"cache_policy() on {label}: {exc}") from exc

        def resolve() -> CachePolicy:
            return inline if inline is not None else conf.policy(name, context=label)  # type: ignore[arg-type]

        if iscoroutinefunction(view):

            @wraps(view)
            async def async_wrapper(*args: Any, **kwargs: Any) -> HttpResponseBase:
                request, _ = _split(args, label)
                policy = resolve()
                declare_policy(request, policy)
                response: HttpResponseBase = await view(*args, **kwargs)
                apply(request, response, policy)
                return response

            wrapper: Any = async_wrapper
        else:

            @wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> HttpResponseBase:
                request, _ = _split(args, label)
                policy = resolve()
                declare_policy(request, policy)
                response: HttpResponseBase = view(*args, **kwargs)
                apply(request, response, policy)
                return response

        wrapper.httpcache_policy = name if inline is None else inline
        wrapper.httpcache_resolve_policy = resolve
        return wrapper  # type: ignore[no-any-return]

    return decorator


def _call(func: ValueFunc, request: HttpRequest, args: Any, kwargs: Any) -> Any:
    if iscoroutinefunction(func):
        return async_to_sync(func)(request, *args, **kwargs)
    return func(request, *args, **kwargs)


def conditional(
    etag: ValueFunc | None = None,
    last_modified: ValueFunc | None = None,
    *,
    queryset: models.QuerySet[Any] | ValueFunc | None = None,
    instance: ValueFunc | None = None,
    dependencies: Iterable[type[models.Model] | str] = (),
    require_if_match: bool | None = None,
) -> Callable[[ViewFunc], ViewFunc]:
    """Answer 304/412 before the view runs, from cheap versions of the data.

    Give one source of validators; callables get ``(request, *args, **kwargs)``:

    - ``etag=`` any value that changes when the representation's data changes (a
      version number...), and/or ``last_modified=`` a datetime; may be coroutines;
    - ``queryset=`` a QuerySet (or a callable returning one): collection validators
      (aggregate or counter mode, see model versions);
    - ``instance=`` a callable returning the model instance: instance validators.

    ``dependencies`` are other models the representation shows. When the resource does
    not exist return None: GET/HEAD then run the view (which answers 404), writes fail
    If-Match (R01, R04). ``require_if_match`` (default HTTPCACHE['REQUIRE_IF_MATCH'])
    answers 428 to a PUT/PATCH/DELETE without If-Match (R17).
    """
    given = [etag is not None or last_modified is not None, queryset is not None, instance is not None]
    if sum(given) != 1:
        raise TypeError("conditional() takes etag=/last_modified=, queryset= or instance=.")

    def decorator(view: ViewFunc) -> ViewFunc:
        label = view_path(view)
        inner_policy: Callable[[], CachePolicy] | None = getattr(view, "httpcache_resolve_policy", None)
        value_funcs = [f for f in (etag, last_modified) if f is not None]
        awaitable_values = bool(value_funcs) and all(iscoroutinefunction(f) for f in value_funcs)

        def variant(request: HttpRequest) -> str:
            return variant_key(request, policy_for(request)[0])

        def from_values(request: HttpRequest, etag_value: Any, modified: Any) -> Validators:
            weak = isinstance(etag_value, str) and etag_value.startswith("W/")
            values = None if etag_value is None else (etag_value,)
            return for_values(values, modified, variant(request), weak=weak)

        def compute(request: HttpRequest, args: Any, kwargs: Any) -> Validators:
            if queryset is not None:
                qs = queryset.all() if isinstance(queryset, models.QuerySet) else _call(queryset, request, args, kwargs)
                return for_queryset(qs, variant(request), dependencies=dependencies)
            if instance is not None:
                obj = _call(instance, request, args, kwargs)
                if obj is None:
                    return Validators(exists=False)
                return for_instance(obj, variant(request), dependencies=dependencies)
            values = [None if f is None else _call(f, request, args, kwargs) for f in (etag, last_modified)]
            return from_values(request, *values)

        async def acompute(request: HttpRequest, args: Any, kwargs: Any) -> Validators:
            if awaitable_values:
                values = [None if f is None else await f(request, *args, **kwargs) for f in (etag, last_modified)]
                return from_values(request, *values)
            return await sync_to_async(compute)(request, args, kwargs)

        def before(request: HttpRequest, current: Validators) -> HttpResponseBase | None:
            if request.method in SAFE_METHODS and current.exists is False:
                return None  # R01: let the view answer (404, or a 200 without validators)
            decision = preconditions.evaluate(request, current, require_if_match=require_if_match)
            if decision == preconditions.PRECONDITION_REQUIRED:
                return _finish(request, preconditions.precondition_required(request))
            if decision == preconditions.NOT_MODIFIED:
                return _finish(request, preconditions.not_modified(request, current))
            if decision == preconditions.PRECONDITION_FAILED:
                return _finish(request, preconditions.precondition_failed(request, current))
            return None

        def after(request: HttpRequest, response: HttpResponseBase, current: Validators) -> None:
            if 200 <= response.status_code < 300 and request.method in SAFE_OR_REPLACED:
                preconditions.set_validators(response, current)
            # With nothing sent (Last-Modified still settling), the middleware may hash.
            if "ETag" in response.headers or "Last-Modified" in response.headers:
                preconditions.mark_evaluated(response)

        def prepare(request: HttpRequest) -> None:
            if inner_policy is not None:  # @conditional above @cache_policy
                declare_policy(request, inner_policy())

        if iscoroutinefunction(view):

            @wraps(view)
            async def async_wrapper(*args: Any, **kwargs: Any) -> HttpResponseBase:
                request, view_args = _split(args, label)
                prepare(request)
                current = await acompute(request, view_args, kwargs)
                short = before(request, current)
                if short is not None:
                    return short
                response: HttpResponseBase = await view(*args, **kwargs)
                if request.method in REPLACING_METHODS and 200 <= response.status_code < 300:
                    current = after_write(await acompute(request, view_args, kwargs))  # R16: the new tag
                after(request, response, current)
                return response

            wrapper: Any = async_wrapper
        else:

            @wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> HttpResponseBase:
                request, view_args = _split(args, label)
                prepare(request)
                current = compute(request, view_args, kwargs)
                short = before(request, current)
                if short is not None:
                    return short
                response: HttpResponseBase = view(*args, **kwargs)
                if request.method in REPLACING_METHODS and 200 <= response.status_code < 300:
                    current = after_write(compute(request, view_args, kwargs))  # R16: the new tag
                after(request, response, current)
                return response

        wrapper.httpcache_conditional = (
            "queryset" if queryset is not None else "instance" if instance is not None else "values"
        )
        models_used = [queryset.model] if isinstance(queryset, models.QuerySet) else []
        wrapper.httpcache_models = [*models_used, *dependencies]
        return wrapper  # type: ignore[no-any-return]

    return decorator


def _finish(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Short responses get the same policy as the 200 would (R12)."""
    apply(request, response, policy_for(request)[0])
    preconditions.mark_evaluated(response)
    return response
