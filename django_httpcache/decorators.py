"""View decorators: ``cache_policy`` and ``conditional``.

Both work on sync and async function views and directly on class-based-view methods
(no ``method_decorator`` needed). They only gather inputs: the policy goes through
``policy.apply()``, the decision through ``preconditions.evaluate()``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from functools import partial, wraps
from typing import Any, TypeVar

from asgiref.sync import async_to_sync, iscoroutinefunction, sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from . import preconditions, responses, trace
from .conf import conf
from .dependencies import Render, known, merged, refresh
from .httputil import REPLACING_METHODS, SAFE_METHODS, view_path
from .policy import CachePolicy, PolicyError, apply
from .preconditions import Validators
from .routing import declare_policy, policy_for
from .validators import (
    Plan,
    after_write,
    everything,
    for_instance,
    for_queryset,
    for_values,
    read_versions,
    variant_key,
)

__all__ = ["cache_policy", "conditional"]

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])
ValueFunc = Callable[..., Any | Awaitable[Any]]


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
                declare_policy(request, policy, "decorator")
                response: HttpResponseBase = await view(*args, **kwargs)
                apply(request, response, policy)
                return response

            wrapper: Any = async_wrapper
        else:

            @wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> HttpResponseBase:
                request, _ = _split(args, label)
                policy = resolve()
                declare_policy(request, policy, "decorator")
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
    write_validators: bool | None = None,
    store: bool | None = None,
) -> Callable[[ViewFunc], ViewFunc]:
    """Answer 304/412 before the view runs, from cheap versions of the data.

    Give one source of validators; callables get ``(request, *args, **kwargs)``:

    - ``etag=`` any value that changes when the representation's data changes (a
      version number...), and/or ``last_modified=`` a datetime; may be coroutines;
    - ``queryset=`` a QuerySet (or a callable returning one): collection validators
      (aggregate or counter mode, see model versions);
    - ``instance=`` a callable returning the model instance: instance validators.

    With ``queryset=`` and ``instance=``, the models the view's queries read while it
    renders are observed and covered from then on (R26); ``dependencies`` declares
    others up front. A callable that returns None says there is no current
    representation: GET/HEAD then run the view (which answers 404), and ``If-Match``
    fails (R01, R04). ``require_if_match`` (default HTTPCACHE['REQUIRE_IF_MATCH'])
    answers 428 to a PUT/PATCH/DELETE without a precondition (R17). A successful
    PUT/PATCH carries the new validators only when its body is the current
    representation (R16): it has ``Content-Location`` equal to the request's path, or
    ``write_validators=True`` says so (``False``: never). ``store=True`` serves 200s
    from the response store (default: the policy's ``store``; docs/response-store.md).
    """
    given = [etag is not None or last_modified is not None, queryset is not None, instance is not None]
    if sum(given) != 1:
        raise TypeError("conditional() takes etag=/last_modified=, queryset= or instance=.")

    def decorator(view: ViewFunc) -> ViewFunc:
        spec = _Conditional(
            view_path(view), etag, last_modified, queryset, instance, dependencies, require_if_match, write_validators
        )
        spec.inner_policy = getattr(view, "httpcache_resolve_policy", None)
        spec.store = store

        if iscoroutinefunction(view):

            @wraps(view)
            async def async_wrapper(*args: Any, **kwargs: Any) -> HttpResponseBase:
                request, view_args = _split(args, spec.label)
                current, plan = await spec.acompute(request, view_args, kwargs)
                # before() and after() may read or share what the view reads (a query).
                short = await sync_to_async(spec.before)(request, current, plan)
                if short is not None:
                    return short
                render = spec.begin(request, current, plan)
                try:
                    response: HttpResponseBase = await view(*args, **kwargs)
                finally:
                    if render is not None:
                        render.stop()
                if spec.needs_write_validators(request, response):
                    current = after_write((await spec.acompute(request, view_args, kwargs))[0])  # R16
                return await sync_to_async(spec.after)(request, response, current, render, plan)

            wrapper: Any = async_wrapper
        else:

            @wraps(view)
            def wrapper(*args: Any, **kwargs: Any) -> HttpResponseBase:
                request, view_args = _split(args, spec.label)
                current, plan = spec.compute(request, view_args, kwargs)
                short = spec.before(request, current, plan)
                if short is not None:
                    return short
                render = spec.begin(request, current, plan)
                try:
                    response: HttpResponseBase = view(*args, **kwargs)
                finally:
                    if render is not None:
                        render.stop()
                if spec.needs_write_validators(request, response):
                    current = after_write(spec.compute(request, view_args, kwargs)[0])  # R16
                return spec.after(request, response, current, render, plan)

        wrapper.httpcache_conditional = spec.kind
        models_used = [queryset.model] if isinstance(queryset, models.QuerySet) else []
        wrapper.httpcache_models = [*models_used, *dependencies]
        wrapper.httpcache_view_key = spec.label
        return wrapper  # type: ignore[no-any-return]

    return decorator


class _Conditional:
    """What one ``@conditional`` gathers, shared by its sync and async wrappers."""

    inner_policy: Callable[[], CachePolicy] | None = None
    #: Serve 200s from the response store; None: the policy's ``store``.
    store: bool | None = None

    def __init__(
        self,
        label: str,
        etag: ValueFunc | None,
        last_modified: ValueFunc | None,
        queryset: models.QuerySet[Any] | ValueFunc | None,
        instance: ValueFunc | None,
        dependencies: Iterable[type[models.Model] | str],
        require_if_match: bool | None,
        write_validators: bool | None,
    ) -> None:
        self.label = label
        self.etag, self.last_modified = etag, last_modified
        self.queryset, self.instance = queryset, instance
        self.dependencies = tuple(dependencies)
        self.require_if_match = require_if_match
        self.write_validators = write_validators
        self.kind = "queryset" if queryset is not None else "instance" if instance is not None else "values"
        value_funcs = [f for f in (etag, last_modified) if f is not None]
        self.awaitable_values = bool(value_funcs) and all(iscoroutinefunction(f) for f in value_funcs)

    def variant(self, request: HttpRequest) -> str:
        return variant_key(request, policy_for(request)[0], vary=known(self.label).vary)

    def from_values(self, request: HttpRequest, etag_value: Any, modified: Any) -> Validators:
        weak = isinstance(etag_value, str) and etag_value.startswith("W/")
        values = None if etag_value is None else (etag_value,)
        if values is None and modified is None:
            return Validators(exists=False)  # None: no current representation
        return for_values(values, modified, self.variant(request), weak=weak)

    def compute(self, request: HttpRequest, args: Any, kwargs: Any) -> tuple[Validators, Plan | None]:
        with trace.timer(trace.of(request)) as found:
            found.view, found.mode = self.label, self.kind
            current, plan = self._compute(request, args, kwargs)
            found.etag = current.etag
            return current, plan

    def _compute(self, request: HttpRequest, args: Any, kwargs: Any) -> tuple[Validators, Plan | None]:
        if self.inner_policy is not None:  # @conditional above @cache_policy
            declare_policy(request, self.inner_policy(), "decorator")
        if self.queryset is None and self.instance is None:
            values = [None if f is None else _call(f, request, args, kwargs) for f in (self.etag, self.last_modified)]
            return self.from_values(request, *values), None
        deps = merged(self.label, self.dependencies)
        # Versions before data (R25); before the first render, of every tracked model,
        # so that whatever it reads is covered at once.
        to_read = deps if known(self.label).seen else everything(deps)
        if self.queryset is not None:
            qs = self.queryset
            qs = qs.all() if isinstance(qs, models.QuerySet) else _call(qs, request, args, kwargs)
            snapshot = read_versions(to_read, queryset=qs) if isinstance(qs, models.QuerySet) else None
            plan = Plan(qs, snapshot)
        else:
            snapshot = read_versions(to_read)
            obj = _call(self.instance, request, args, kwargs)  # type: ignore[arg-type]
            if obj is None:
                return Validators(exists=False), None
            plan = Plan(obj, snapshot)
        return self.build(request, plan), plan

    def build(self, request: HttpRequest, plan: Plan) -> Validators:
        """Validators from what was read before the data, for what the view is known to read."""
        deps = merged(self.label, self.dependencies)
        found = trace.of(request)
        found.cover(lambda: plan.covers(deps))
        found.plan = plan
        if isinstance(plan.target, models.Model):
            return for_instance(plan.target, self.variant(request), dependencies=deps, snapshot=plan.snapshot)
        return for_queryset(plan.target, self.variant(request), dependencies=deps, snapshot=plan.snapshot)

    async def acompute(self, request: HttpRequest, args: Any, kwargs: Any) -> tuple[Validators, Plan | None]:
        if self.awaitable_values:
            if self.inner_policy is not None:
                declare_policy(request, self.inner_policy(), "decorator")
            funcs = (self.etag, self.last_modified)
            values = [None if f is None else await f(request, *args, **kwargs) for f in funcs]
            return self.from_values(request, *values), None
        return await sync_to_async(self.compute)(request, args, kwargs)

    def before(self, request: HttpRequest, current: Validators, plan: Plan | None) -> HttpResponseBase | None:
        if request.method in SAFE_METHODS and current.exists is False:
            return None  # R01: let the view answer (404, or a 200 checked in after())
        decision = preconditions.evaluate(request, current, require_if_match=self.require_if_match)
        if decision == preconditions.PRECONDITION_FAILED and plan is not None and refresh(self.label):
            # The client's tag may come from a process that has seen more of what the
            # view reads: check again with that (read now; the write is not done yet).
            current = self.build(request, Plan(plan.target, None))
            decision = preconditions.evaluate(request, current, require_if_match=self.require_if_match)
        short = self.short(request, current, decision)
        if short is None and request.method in SAFE_METHODS:
            return self.stored(request, current)
        return short

    def stored(self, request: HttpRequest, current: Validators) -> HttpResponseBase | None:
        """A 200 from the response store (R29), with the policy a rendered one gets."""
        policy = policy_for(request)[0]
        seen = known(self.label).seen
        variant = partial(self.variant, request)  # computed only if the view uses the store
        hit = responses.lookup(request, variant, current.etag, policy=policy, seen=seen, flag=self.store)
        if hit is not None:
            apply(request, hit, policy)
            preconditions.mark_evaluated(hit)
        return hit

    def short(self, request: HttpRequest, current: Validators, decision: Any) -> HttpResponseBase | None:
        if decision == preconditions.PRECONDITION_REQUIRED:
            response = preconditions.precondition_required(request)
        elif decision == preconditions.NOT_MODIFIED:
            response = preconditions.not_modified(request, current)
        elif decision == preconditions.PRECONDITION_FAILED:
            response = preconditions.precondition_failed(request, current)
        else:
            return None
        # The same policy and Vary as the 200 would have (R11, R12).
        apply(request, response, policy_for(request)[0], learned_vary=known(self.label).vary)
        preconditions.mark_evaluated(response)
        return response

    def begin(self, request: HttpRequest, current: Validators, plan: Plan | None) -> Render | None:
        """Observe a GET/HEAD render (R26); of a view with values of its own, only its Vary."""
        if request.method not in SAFE_METHODS or (plan is None and current.etag is None):
            return None
        if plan is None:
            return Render(request, self.label, observe=False)
        return Render(request, self.label, plan.row())

    def needs_write_validators(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        """R16: a PUT/PATCH 2xx carries validators only for a body that is the current
        representation (RFC 9110 §9.3.4, §8.7)."""
        if request.method not in REPLACING_METHODS or not 200 <= response.status_code < 300:
            return False
        if self.write_validators is not None:
            if self.write_validators and "Content-Location" not in response.headers:
                response.headers["Content-Location"] = request.path
            return self.write_validators
        return is_current_representation(request, response)

    def after(
        self,
        request: HttpRequest,
        response: HttpResponseBase,
        current: Validators,
        render: Render | None,
        plan: Plan | None,
    ) -> HttpResponseBase:
        status = response.status_code
        if request.method in SAFE_METHODS and 200 <= status < 300:
            if current.exists is False:
                # No current representation (R04, R07): If-Match fails, * never matches,
                # and the middleware must not hash one into existence.
                short = self.short(request, current, preconditions.evaluate(request, current))
                if short is not None:
                    return short
                preconditions.mark_evaluated(response)
                return response
            if render is not None:
                if render.finish(response) is None:
                    return response  # R26: an untracked read; the body hash may give a tag
                if plan is not None:
                    current = self.build(request, plan)  # for all it is now known to read
            preconditions.set_validators(response, current)
            short = self.short(request, current, preconditions.evaluate_rendered(request, current))
            if short is not None:
                return short
            responses.keep(request, partial(self.variant, request), current.etag)
        elif request.method in REPLACING_METHODS and 200 <= status < 300:
            if self.needs_write_validators(request, response):  # else the pre-write ones: none
                preconditions.set_validators(response, current)
            preconditions.mark_evaluated(response)  # R16: no body-hash tag either
            return response
        # With nothing sent (Last-Modified still settling), the middleware may hash.
        if "ETag" in response.headers or "Last-Modified" in response.headers:
            preconditions.mark_evaluated(response)
        return response


def is_current_representation(request: HttpRequest, response: HttpResponseBase) -> bool:
    """Is a write's response body the target's current representation? (§8.7: its
    Content-Location names the target URI.)"""
    location = response.headers.get("Content-Location")
    if not location:
        return False
    return location in (request.path, request.build_absolute_uri(request.path))
