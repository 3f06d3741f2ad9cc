"""View decorators: ``cache_policy`` and ``conditional``.

Both work on sync and async function views and directly on class-based-view methods
(no ``method_decorator`` needed). They only gather inputs: the policy goes through
``policy.apply()``, the decision through ``preconditions.evaluate()``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar, Union

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from . import preconditions
from .conf import conf, declare_policy, policy_for
from .policy import CachePolicy, PolicyError, apply
from .preconditions import Validators
from .validators import etag_for, variant_key

__all__ = ["cache_policy", "conditional"]

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])
ValueFunc = Callable[..., Union[Any, Awaitable[Any]]]
WRITE_METHODS = frozenset({"PUT", "PATCH", "DELETE"})


def _label(view: Callable[..., Any]) -> str:
    return f"{view.__module__}.{view.__qualname__}"


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
        label = _label(view)
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
                response = await view(*args, **kwargs)
                apply(request, response, policy)
                return response

            wrapper: Any = async_wrapper
        else:

            @wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> HttpResponseBase:
                request, _ = _split(args, label)
                policy = resolve()
                declare_policy(request, policy)
                response = view(*args, **kwargs)
                apply(request, response, policy)
                return response

        wrapper.httpcache_policy = name if inline is None else inline
        wrapper.httpcache_resolve_policy = resolve
        return wrapper  # type: ignore[no-any-return]

    return decorator


def _validators(request: HttpRequest, etag_value: Any, last_modified: Any) -> Validators:
    policy, _ = policy_for(request)
    tag = None
    if etag_value is not None:
        weak = isinstance(etag_value, str) and etag_value.startswith("W/")
        tag = etag_for((etag_value,), variant_key(request, policy), weak=weak)
    modified = preconditions.to_timestamp(last_modified, now=time.time())
    return Validators(etag=tag, last_modified=modified, exists=tag is not None or modified is not None)


def conditional(
    etag: ValueFunc | None = None,
    last_modified: ValueFunc | None = None,
    *,
    require_if_match: bool | None = None,
) -> Callable[[ViewFunc], ViewFunc]:
    """Answer 304/412 before the view runs, from cheap version values.

    ``etag(request, *args, **kwargs)`` returns any value that changes when the
    representation's data changes (a version number, a timestamp...), or None;
    ``last_modified(...)`` returns a datetime or None. Both may be coroutines.
    Return None from both when the resource does not exist: GET/HEAD then run the
    view (which answers 404), writes then fail If-Match (R01, R04).
    ``require_if_match`` (default: HTTPCACHE['REQUIRE_IF_MATCH']) answers 428 to a
    PUT/PATCH/DELETE without If-Match (R17).
    """
    if etag is None and last_modified is None:
        raise TypeError("conditional() needs etag=, last_modified= or both.")

    def decorator(view: ViewFunc) -> ViewFunc:
        label = _label(view)
        inner_policy: Callable[[], CachePolicy] | None = getattr(view, "httpcache_resolve_policy", None)

        def prepare(request: HttpRequest) -> None:
            if inner_policy is not None:  # @conditional above @cache_policy
                declare_policy(request, inner_policy())

        def short_circuit(request: HttpRequest, current: Validators) -> HttpResponseBase | None:
            method = request.method
            if method in WRITE_METHODS and current.exists and "HTTP_IF_MATCH" not in request.META:
                required = conf.REQUIRE_IF_MATCH if require_if_match is None else require_if_match
                if required:
                    return _finish(request, preconditions.precondition_required(request))
            if method in preconditions.SAFE_METHODS and not current.exists:
                return None  # R01: let the view answer (404, or a 200 without validators)
            decision = preconditions.evaluate(request, current)
            if decision == preconditions.NOT_MODIFIED:
                return _finish(request, preconditions.not_modified(request, current))
            if decision == preconditions.PRECONDITION_FAILED:
                return _finish(request, preconditions.precondition_failed(request, current))
            return None

        def done(request: HttpRequest, response: HttpResponseBase, current: Validators) -> None:
            if 200 <= response.status_code < 300 and request.method in preconditions.SAFE_METHODS:
                preconditions.set_validators(response, current)
            response._httpcache_evaluated = True  # type: ignore[attr-defined]

        if iscoroutinefunction(view):

            async def acall(func: ValueFunc | None, request: HttpRequest, args: Any, kwargs: Any) -> Any:
                if func is None:
                    return None
                if iscoroutinefunction(func):
                    return await func(request, *args, **kwargs)
                return await sync_to_async(func)(request, *args, **kwargs)

            async def acompute(request: HttpRequest, args: Any, kwargs: Any) -> Validators:
                values = [await acall(f, request, args, kwargs) for f in (etag, last_modified)]
                return _validators(request, *values)

            @wraps(view)
            async def async_wrapper(*args: Any, **kwargs: Any) -> HttpResponseBase:
                request, view_args = _split(args, label)
                prepare(request)
                current = await acompute(request, view_args, kwargs)
                short = short_circuit(request, current)
                if short is not None:
                    return short
                response = await view(*args, **kwargs)
                if request.method in ("PUT", "PATCH") and 200 <= response.status_code < 300:
                    current = await acompute(request, view_args, kwargs)  # R16: the new tag
                    preconditions.set_validators(response, current)
                done(request, response, current)
                return response

            wrapper: Any = async_wrapper
        else:

            def call(func: ValueFunc | None, request: HttpRequest, args: Any, kwargs: Any) -> Any:
                if func is None:
                    return None
                if iscoroutinefunction(func):
                    return async_to_sync(func)(request, *args, **kwargs)
                return func(request, *args, **kwargs)

            def compute(request: HttpRequest, args: Any, kwargs: Any) -> Validators:
                values = [call(f, request, args, kwargs) for f in (etag, last_modified)]
                return _validators(request, *values)

            @wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> HttpResponseBase:
                request, view_args = _split(args, label)
                prepare(request)
                current = compute(request, view_args, kwargs)
                short = short_circuit(request, current)
                if short is not None:
                    return short
                response = view(*args, **kwargs)
                if request.method in ("PUT", "PATCH") and 200 <= response.status_code < 300:
                    current = compute(request, view_args, kwargs)  # R16: the new tag
                    preconditions.set_validators(response, current)
                done(request, response, current)
                return response

        wrapper.httpcache_conditional = True
        return wrapper  # type: ignore[no-any-return]

    return decorator


def _finish(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Short responses get the same policy as the 200 would (R12)."""
    apply(request, response, policy_for(request)[0])
    response._httpcache_evaluated = True  # type: ignore[attr-defined]
    return response
