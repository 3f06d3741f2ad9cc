"""``ConditionalMixin``: validators from model versions at DRF's own hooks (see the
package docstring)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connections, models, router, transaction
from django.db.models import prefetch_related_objects
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework.mixins import ListModelMixin, RetrieveModelMixin, UpdateModelMixin
from rest_framework.request import Request

from .. import preconditions, responses, trace
from ..decorators import is_current_representation
from ..dependencies import Render, Row, known, merged, refresh
from ..httputil import REPLACING_METHODS, SAFE_METHODS, UNSAFE_METHODS, WRITE_METHODS, unwrap, view_path
from ..policy import apply
from ..preconditions import Validators
from ..routing import policy_for
from ..validators import (
    Plan,
    Snapshot,
    after_write,
    everything,
    for_instance,
    for_queryset,
    instance_dependencies,
    read_versions,
    variant_key,
)
from ..versions.registry import row_fields
from .base import READ_ACTIONS, CachePolicyMixin, NotModified, PreconditionFailed, PreconditionRequired, _Stored

__all__ = ["ConditionalMixin"]


class ConditionalMixin(CachePolicyMixin):
    """ETag/Last-Modified from model versions, 304 before serialization, 412/428 on writes.

    The models the serializer reads are observed while a 200 renders and covered from
    then on (R26); ``etag_dependencies`` declares others up front.
    """

    #: Other models whose data the representation shows (classes or "app.Model"), for
    #: every action, or per action: ``{"list": [Category]}``.
    etag_dependencies: Sequence[type[models.Model] | str] | Mapping[str, Sequence[type[models.Model] | str]] = ()
    #: Which GET actions answer conditionally, and from what.
    conditional_actions: Mapping[str, str] = {"list": "collection", "retrieve": "instance"}
    #: "aggregate" opts this view out of counter mode; None: HTTPCACHE['VERSION_MODE'].
    version_mode: str | None = None
    #: 428 for PUT/PATCH/DELETE without a precondition; None: HTTPCACHE['REQUIRE_IF_MATCH'].
    require_if_match: bool | None = None
    #: Serve 200s from the response store (docs/response-store.md); None: the policy's ``store``.
    response_store: bool | None = None

    _httpcache_current: Validators | None = None
    _httpcache_object: models.Model | None = None
    _httpcache_pending: tuple[models.Model, Snapshot | None] | None = None
    _httpcache_render: Render | None = None
    _httpcache_plan: Plan | None = None
    _httpcache_prefetch: list[Any] = []

    # -- what to compute ---------------------------------------------------------------

    def read_action(self) -> str:
        """The GET action whose representation this request is about: a write is
        checked against the tag its GET handed out (R04)."""
        action = getattr(self, "action", None)
        return READ_ACTIONS.get(action, action) if action else "get"

    def view_key(self) -> str:
        """Whose observed dependencies this request's validators fold in."""
        key: str | None = self.__dict__.get("_httpcache_view_key")
        if key is None:
            key = self.__dict__["_httpcache_view_key"] = f"{view_path(type(self))}:{self.read_action()}"
        return key

    def get_etag_dependencies(self) -> Iterable[type[models.Model] | str]:
        """Declared dependencies (``etag_dependencies``) and observed ones."""
        dependencies = self.etag_dependencies
        if isinstance(dependencies, Mapping):
            dependencies = dependencies.get(self.read_action(), ())
        return merged(self.view_key(), dependencies)  # memoized per known set

    def get_validators(self) -> Validators | None:
        """For views without get_object()/paginate_queryset(): validators of the GET."""
        return None

    def variant(self) -> str:
        request = self.request
        seen = known(self.view_key())
        memo: tuple[Any, str] | None = self.__dict__.get("_httpcache_variant")
        if memo is not None and memo[0] is seen:
            return memo[1]  # the same until a render learns a new Vary
        media_type = getattr(request, "accepted_media_type", "") or ""
        policy = policy_for(request)[0]
        if request.method not in SAFE_METHODS:
            # The tag a write is checked against is the one its GET handed out (R04).
            policy = self.get_cache_policy(read=True) or policy
        # The negotiated media type already tells Accept's variants apart.
        found = variant_key(request, policy, media_type, vary=seen.vary - {"Accept"})
        self.__dict__["_httpcache_variant"] = (seen, found)
        return found

    def get_instance_validators(self, obj: models.Model, snapshot: Snapshot | None = None) -> Validators:
        deps = self.get_etag_dependencies()
        return for_instance(obj, self.variant(), dependencies=deps, mode=self.version_mode, snapshot=snapshot)

    def get_collection_validators(self, queryset: models.QuerySet[Any], snapshot: Snapshot | None = None) -> Validators:
        deps = self.get_etag_dependencies()
        return for_queryset(queryset, self.variant(), dependencies=deps, mode=self.version_mode, snapshot=snapshot)

    def read_versions_first(self, queryset: models.QuerySet[Any] | None = None) -> Snapshot | None:
        """The versions this request's validators need, read before the data (R25);
        before the view's first observed render, of every tracked model."""
        if queryset is not None and not isinstance(queryset, models.QuerySet):
            return None
        deps: Iterable[type[models.Model] | str] = self.get_etag_dependencies()
        model = self._target_model() if queryset is None else None
        if model is not None:
            deps = instance_dependencies(model, deps)
        to_read = deps if known(self.view_key()).seen else everything(deps)
        with trace.timer(trace.of(self.request)) as found:
            found.mode = "collection" if queryset is not None else "instance"
            return read_versions(to_read, self.version_mode, queryset=queryset)

    @classmethod
    def conditional_kind(cls, action: str | None) -> str | None:
        """What a GET answers from: "collection" (paginate_queryset), "instance"
        (get_object), "view" (get_validators()) or None. Also read by httpcache_report."""
        if action is not None:
            return cls.conditional_actions.get(action)
        if issubclass(cls, ListModelMixin):
            return "collection"
        if issubclass(cls, RetrieveModelMixin):
            return "instance"
        if cls.get_validators is not ConditionalMixin.get_validators:
            return "view"
        return None

    def _kind(self) -> str | None:
        return self.conditional_kind(getattr(self, "action", None))

    # -- hooks -------------------------------------------------------------------------

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self._decide_after_get_object()
        if request.method in SAFE_METHODS and self._kind() == "view":
            current = self.get_validators()
            if current is not None:
                self._decide(current)

    def _decide_after_get_object(self) -> None:
        """Decide once the view's own get_object() has returned: an override that checks
        a permission after ``super().get_object()`` answers 403, not 304 (R01)."""
        outermost = self.get_object

        def get_object() -> Any:
            obj = outermost()
            pending, self._httpcache_pending = self._httpcache_pending, None
            if pending is not None and self._httpcache_current is None:
                self._decide_object(*pending)
            return obj

        self.get_object = get_object  # type: ignore[method-assign]

    def paginate_queryset(self, queryset: models.QuerySet[Any]) -> Any:
        if self.request.method in SAFE_METHODS and self._kind() == "collection":
            snapshot = self.read_versions_first(queryset)
            plan = self._cover(Plan(queryset, snapshot))
            self._decide(self.get_collection_validators(queryset, snapshot))
            self._begin(plan)
        return super().paginate_queryset(queryset)

    def _cover(self, plan: Plan) -> Plan:
        """What the validators cover, in the trace before the decision: a 304 carries the
        same surrogate keys as its 200 (docs/cdn.md)."""
        deps = self.get_etag_dependencies()
        trace.of(self.request).cover(lambda: plan.covers(deps))
        return plan

    def _begin(self, plan: Plan) -> None:
        """Observe the render (R26): the validators are rebuilt for what it read."""
        if isinstance(plan.target, models.QuerySet | models.Model):
            self._httpcache_plan = plan
            self._httpcache_render = Render(unwrap(self.request), self.view_key(), plan.row())

    def get_object(self) -> Any:
        method = self.request.method
        if method in UNSAFE_METHODS:
            self._lock_target()
        snapshot, row = None, None
        if self._httpcache_current is None and (method in UNSAFE_METHODS or self._kind() == "instance"):
            # Versions before data (R25): what the row's relations show must not be
            # newer than the versions its tag is made of.
            snapshot = self.read_versions_first()
            model = self._target_model()
            if method in SAFE_METHODS and model is not None:
                # Observed from here: select_related()/prefetch_related() read the
                # relations while the object loads, not while it is serialized.
                row = Row(model) if row_fields(model)[1] is not None else None
                self._httpcache_render = Render(unwrap(self.request), self.view_key(), row)
                self._defer_prefetch()
        try:
            obj = super().get_object()
        finally:
            self.__dict__.pop("filter_queryset", None)
        if row is not None:
            row.obj = obj
        if self._httpcache_current is None and method in SAFE_METHODS | UNSAFE_METHODS:
            self._httpcache_pending = (obj, snapshot)
        return obj

    def _defer_prefetch(self) -> None:
        """A 304 needs the row, not its prefetched relations: those are fetched once the
        decision is to render (still observed)."""
        original = self.filter_queryset
        lookups = self._httpcache_prefetch = []

        def filter_queryset(queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
            queryset = original(queryset)
            found = getattr(queryset, "_prefetch_related_lookups", ())
            if found:
                lookups.extend(found)
                queryset = queryset.prefetch_related(None)
            return queryset

        self.filter_queryset = filter_queryset  # type: ignore[method-assign]

    def _decide_object(self, obj: models.Model, snapshot: Snapshot | None) -> None:
        method = self.request.method
        if method in SAFE_METHODS:
            if self._kind() == "instance":
                plan = self._cover(Plan(obj, snapshot))
                self._decide(self.get_instance_validators(obj, snapshot))
                if self._httpcache_prefetch:
                    prefetch_related_objects([obj], *self._httpcache_prefetch)
                self._httpcache_plan = plan
                if self._httpcache_render is None:
                    self._begin(self._httpcache_plan)
        elif method in UNSAFE_METHODS:
            self._httpcache_object = obj
            current = self.get_instance_validators(obj, snapshot)
            request = unwrap(self.request)
            failed = preconditions.evaluate(request, current) == preconditions.PRECONDITION_FAILED
            if failed and refresh(self.view_key()):
                # The client's tag may come from a process that has seen more of what
                # the GET reads: check with that (the row is locked, not written yet).
                current = self.get_instance_validators(obj)
            self._decide(current, require_if_match=self.require_if_match)

    def check_write_preconditions(self, obj: models.Model) -> None:
        """412/428 for a write to ``obj``; call it yourself from a custom APIView."""
        self._httpcache_object = obj
        self._decide(self.get_instance_validators(obj), require_if_match=self.require_if_match)

    def _decide(self, current: Validators, *, require_if_match: bool | None = False) -> None:
        self._httpcache_current = current
        found = trace.of(self.request)
        found.view, found.etag = self.view_key(), current.etag
        decision = preconditions.evaluate(unwrap(self.request), current, require_if_match=require_if_match)
        if decision == preconditions.PRECONDITION_REQUIRED:
            raise PreconditionRequired()
        if decision == preconditions.NOT_MODIFIED:
            raise NotModified(current)
        if decision == preconditions.PRECONDITION_FAILED:
            raise PreconditionFailed()
        if self.request.method in SAFE_METHODS:
            self._serve_stored(current)

    def _serve_stored(self, current: Validators) -> None:
        """Leave the handler with a 200 from the response store (R29): no serializer."""
        seen, policy = known(self.view_key()).seen, policy_for(self.request)[0]
        user = getattr(self.request, "user", None)
        hit = responses.lookup(
            self.request, self.variant, current.etag, policy=policy, seen=seen, flag=self.response_store, user=user
        )
        if hit is not None:
            raise _Stored(hit)

    def _target_model(self) -> type[models.Model] | None:
        queryset = getattr(self, "queryset", None)
        if not isinstance(queryset, models.QuerySet):
            try:
                queryset = self.get_queryset()
            except Exception:  # a get_queryset() that needs more than the request
                return None
        if not isinstance(queryset, models.QuerySet):
            return None
        return queryset.model._meta.concrete_model or queryset.model

    def _lock_target(self) -> None:
        """Lock the row before reading it, so check and write cannot interleave with
        another writer (no lost update). SQLite has no row locks: there, use
        ``"transaction_mode": "IMMEDIATE"`` so that writers serialize."""
        model = self._target_model()
        lookup = getattr(self, "lookup_url_kwarg", None) or getattr(self, "lookup_field", "pk")
        if model is None or lookup not in self.kwargs:
            return
        db = router.db_for_write(model)
        features = connections[db].features
        if not features.has_select_for_update or not connections[db].in_atomic_block:
            return
        rows = model._base_manager.using(db).filter(**{getattr(self, "lookup_field", "pk"): self.kwargs[lookup]})
        list(rows.select_for_update().values_list("pk", flat=True))

    # -- responses ---------------------------------------------------------------------

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            if request.method not in WRITE_METHODS:
                return super().dispatch(request, *args, **kwargs)
            # The precondition check (in get_object) and the write share one transaction.
            queryset = getattr(self, "queryset", None)  # before initial(): not get_queryset()
            db = router.db_for_write(queryset.model) if queryset is not None else "default"
            with transaction.atomic(using=db):
                response = super().dispatch(request, *args, **kwargs)
        finally:
            if self._httpcache_render is not None:
                self._httpcache_render.stop()
        obj = self._httpcache_object
        if obj is not None and self._returns_representation(request, response):
            # R16, computed after the commit, so that counter tokens bumped by it count.
            response.headers.setdefault("Content-Location", request.path)
            preconditions.set_validators(response, after_write(self.get_instance_validators(obj)))
        return response

    def _returns_representation(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        """R16: DRF's update and partial_update answer with the stored representation."""
        if request.method not in REPLACING_METHODS or not 200 <= response.status_code < 300:
            return False
        action = getattr(self, "action", None)
        if action is not None:
            return action in ("update", "partial_update")
        return isinstance(self, UpdateModelMixin) or is_current_representation(request, response)

    def _rebuild(self, plan: Plan) -> Validators:
        found = trace.of(self.request)
        deps = self.get_etag_dependencies()
        found.cover(lambda: plan.covers(deps))
        found.plan = plan
        if isinstance(plan.target, models.Model):
            return self.get_instance_validators(plan.target, plan.snapshot)
        return self.get_collection_validators(plan.target, plan.snapshot)

    def handle_exception(self, exc: Exception) -> HttpResponseBase:  # type: ignore[override]
        if isinstance(exc, NotModified):
            return preconditions.not_modified(unwrap(self.request), exc.validators)
        if isinstance(exc, _Stored):
            self._httpcache_current = None  # sent as stored: nothing to rebuild
            preconditions.mark_evaluated(exc.response)
            return exc.response
        return super().handle_exception(exc)

    def learned_vary(self, response: HttpResponseBase) -> Iterable[str]:
        return known(self.view_key()).vary if response.status_code == 304 else ()

    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)
        current, render, plan = self._httpcache_current, self._httpcache_render, self._httpcache_plan
        if current is not None and request.method in SAFE_METHODS and 200 <= response.status_code < 300:
            if render is not None and plan is not None:
                # Rebuilt for all it is now known to read; none after an untracked read (R26).
                found = render.finish(response)
                current = None if found is None else self._rebuild(plan)
            if current is not None:
                preconditions.set_validators(response, current)
                if preconditions.evaluate_rendered(unwrap(request), current) == preconditions.NOT_MODIFIED:
                    response = preconditions.not_modified(unwrap(request), current)
                    apply(request, response, policy_for(request)[0], learned_vary=self.learned_vary(response))
                else:
                    responses.keep(request, self.variant, current.etag)
        elif render is not None:
            render.stop()
        if "ETag" in response.headers or "Last-Modified" in response.headers:
            # Sent validators: done. Without any (Last-Modified still settling, untracked
            # model), the middleware's body hash may still give the response an ETag.
            preconditions.mark_evaluated(response)
        return response
