"""Django REST framework mixins: a policy per action, and conditional requests.

``CachePolicyMixin`` applies a named policy to every response of a view (200, 304,
errors) through ``policy.apply()``. ``ConditionalMixin`` (which includes it) answers
conditional requests through ``preconditions.evaluate()`` at DRF's own hooks:

- GET/HEAD on a detail: in ``get_object()``, after object permissions, before the
  serializer exists; on a list: in ``paginate_queryset()``, after ``filter_queryset``
  and before the page is fetched; on an APIView: in ``initial()`` (after
  authentication, permissions and throttles) from ``get_validators()``.
- PUT/PATCH/DELETE: in ``get_object()``, against the current (locked) row: 412 or 428
  without writing; a successful PUT/PATCH returns the new ETag (R16).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.db import connections, models, router, transaction
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.mixins import ListModelMixin, RetrieveModelMixin
from rest_framework.request import Request

from . import preconditions
from .conf import conf
from .httputil import REPLACING_METHODS, SAFE_METHODS, UNSAFE_METHODS, WRITE_METHODS, unwrap
from .policy import CachePolicy, apply
from .preconditions import Validators
from .routing import declare_policy, policy_for
from .validators import after_write, for_instance, for_queryset, variant_key

__all__ = [
    "CachePolicyMixin",
    "ConditionalMixin",
    "PreconditionFailed",
    "PreconditionRequired",
]

# A write is compared with the representation a GET of the same resource selects.
READ_ACTIONS = {"update": "retrieve", "partial_update": "retrieve", "destroy": "retrieve", "create": "list"}


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = _("Precondition failed: the resource has changed since you last fetched it.")
    default_code = "precondition_failed"


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = _("This request must be conditional: send If-Match with the ETag you last received.")
    default_code = "precondition_required"


class NotModified(Exception):
    """Raised at a hook to leave the handler; turned into a 304 by handle_exception."""

    def __init__(self, validators: Validators) -> None:
        self.validators = validators


if TYPE_CHECKING:  # the mixins go in front of DRF views; type-check them as such
    from rest_framework.generics import GenericAPIView

    _View = GenericAPIView[Any]
else:
    _View = object


class CachePolicyMixin(_View):
    """``cache_policy = "catalog"``; ``cache_policies = {"list": ..., "me": ...}``.

    Keys of ``cache_policies`` are actions (viewsets) or lowercase HTTP methods.
    """

    cache_policy: str | None = None
    cache_policies: Mapping[str, str] = {}

    def get_cache_policy(self, *, read: bool = False) -> CachePolicy | None:
        """The policy of this request; with ``read``, of the GET of the same resource."""
        action = getattr(self, "action", None)
        method = (self.request.method or "get").lower()
        if read:
            action, method = (READ_ACTIONS.get(action, action) if action else None), "get"
        name = self.cache_policies.get(action or method) or self.cache_policies.get(method) or self.cache_policy
        if name is None:
            return None
        return conf.policy(name, context=f"{type(self).__module__}.{type(self).__qualname__}")

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        policy = self.get_cache_policy()
        if policy is not None:
            declare_policy(request, policy)
        super().initial(request, *args, **kwargs)

    # DRF takes any HttpResponseBase here (its own finalize_response asserts just that);
    # its stubs say Response, which a 304 built before the serializer is not.
    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[arg-type]
        apply(request, response, policy_for(request)[0])
        return response


class ConditionalMixin(CachePolicyMixin):
    """ETag/Last-Modified from model versions, 304 before serialization, 412/428 on writes."""

    #: Other models whose data the representation shows (classes or "app.Model"), for
    #: every action, or per action: ``{"list": [Category]}``.
    etag_dependencies: Sequence[type[models.Model] | str] | Mapping[str, Sequence[type[models.Model] | str]] = ()
    #: Which GET actions answer conditionally, and from what.
    conditional_actions: Mapping[str, str] = {"list": "collection", "retrieve": "instance"}
    #: "aggregate" opts this view out of counter mode; None: HTTPCACHE['VERSION_MODE'].
    version_mode: str | None = None
    #: 428 for PUT/PATCH/DELETE without If-Match; None: HTTPCACHE['REQUIRE_IF_MATCH'].
    require_if_match: bool | None = None

    _httpcache_current: Validators | None = None
    _httpcache_object: models.Model | None = None

    # -- what to compute ---------------------------------------------------------------

    def get_etag_dependencies(self) -> Iterable[type[models.Model] | str]:
        dependencies = self.etag_dependencies
        if isinstance(dependencies, Mapping):
            action = getattr(self, "action", None)
            if action is None:
                return dependencies.get("get", ())
            # A write is checked against the tag its GET handed out (R04).
            return dependencies.get(READ_ACTIONS.get(action, action), ())
        return dependencies

    def get_validators(self) -> Validators | None:
        """For views without get_object()/paginate_queryset(): validators of the GET."""
        return None

    def variant(self) -> str:
        request = self.request
        media_type = getattr(request, "accepted_media_type", "") or ""
        policy = policy_for(request)[0]
        if request.method not in SAFE_METHODS:
            # The tag a write is checked against is the one its GET handed out (R04).
            policy = self.get_cache_policy(read=True) or policy
        return variant_key(request, policy, media_type)

    def get_instance_validators(self, obj: models.Model) -> Validators:
        return for_instance(obj, self.variant(), dependencies=self.get_etag_dependencies(), mode=self.version_mode)

    def get_collection_validators(self, queryset: models.QuerySet[Any]) -> Validators:
        return for_queryset(queryset, self.variant(), dependencies=self.get_etag_dependencies(), mode=self.version_mode)

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
        if request.method in SAFE_METHODS and self._kind() == "view":
            current = self.get_validators()
            if current is not None:
                self._decide(current)

    def paginate_queryset(self, queryset: models.QuerySet[Any]) -> Any:
        if self.request.method in SAFE_METHODS and self._kind() == "collection":
            self._decide(self.get_collection_validators(queryset))
        return super().paginate_queryset(queryset)

    def get_object(self) -> Any:
        method = self.request.method
        if method in UNSAFE_METHODS:
            self._lock_target()
        obj = super().get_object()
        if self._httpcache_current is not None:
            return obj  # already decided for this request
        if method in SAFE_METHODS:
            if self._kind() == "instance":
                self._decide(self.get_instance_validators(obj))
        elif method in UNSAFE_METHODS:
            self._httpcache_object = obj
            self.check_write_preconditions(obj)
        return obj

    def check_write_preconditions(self, obj: models.Model) -> None:
        """412/428 for a write to ``obj``; call it yourself from a custom APIView."""
        self._decide(self.get_instance_validators(obj), require_if_match=self.require_if_match)

    def _decide(self, current: Validators, *, require_if_match: bool | None = False) -> None:
        self._httpcache_current = current
        decision = preconditions.evaluate(unwrap(self.request), current, require_if_match=require_if_match)
        if decision == preconditions.PRECONDITION_REQUIRED:
            raise PreconditionRequired()
        if decision == preconditions.NOT_MODIFIED:
            raise NotModified(current)
        if decision == preconditions.PRECONDITION_FAILED:
            raise PreconditionFailed()

    def _lock_target(self) -> None:
        """Lock the row before reading it, so check and write cannot interleave with
        another writer (no lost update). SQLite has no row locks: there, use
        ``"transaction_mode": "IMMEDIATE"`` so that writers serialize."""
        queryset = getattr(self, "queryset", None)
        model = queryset.model if queryset is not None else None
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
        if request.method not in WRITE_METHODS:
            return super().dispatch(request, *args, **kwargs)
        # The precondition check (in get_object) and the write share one transaction.
        queryset = getattr(self, "queryset", None)
        db = router.db_for_write(queryset.model) if queryset is not None else "default"
        with transaction.atomic(using=db):
            response = super().dispatch(request, *args, **kwargs)
        obj = self._httpcache_object
        if request.method in REPLACING_METHODS and obj is not None and 200 <= response.status_code < 300:
            # R16, computed after the commit, so that counter tokens bumped by it count.
            preconditions.set_validators(response, after_write(self.get_instance_validators(obj)))
        return response

    def handle_exception(self, exc: Exception) -> HttpResponseBase:  # type: ignore[override]
        if isinstance(exc, NotModified):
            return preconditions.not_modified(unwrap(self.request), exc.validators)
        return super().handle_exception(exc)

    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        current = self._httpcache_current
        if current is not None and request.method in SAFE_METHODS and 200 <= response.status_code < 300:
            preconditions.set_validators(response, current)
        if "ETag" in response.headers or "Last-Modified" in response.headers:
            # Sent validators: done. Without any (Last-Modified still settling, untracked
            # model), the middleware's body hash may still give the response an ETag.
            preconditions.mark_evaluated(response)
        return super().finalize_response(request, response, *args, **kwargs)
