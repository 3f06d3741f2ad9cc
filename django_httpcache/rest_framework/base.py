"""The DRF surface's shared parts: the policy mixin, and the exceptions that carry a
decision out of DRF's hooks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from django.http.response import HttpResponseBase
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from ..conf import conf
from ..httputil import view_path
from ..policy import CachePolicy, apply
from ..preconditions import Validators
from ..routing import declare_policy, policy_for

__all__ = ["READ_ACTIONS", "CachePolicyMixin", "NotModified", "PreconditionFailed", "PreconditionRequired"]

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


class _Stored(Exception):
    """Raised at a hook to leave the handler with a stored 200 (R29)."""

    def __init__(self, response: HttpResponseBase) -> None:
        self.response = response


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
        return conf.policy(name, context=view_path(type(self)))

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        policy = self.get_cache_policy()
        if policy is not None:
            declare_policy(request, policy, "mixin")
        super().initial(request, *args, **kwargs)

    # DRF takes any HttpResponseBase here (its own finalize_response asserts just that);
    # its stubs say Response, which a 304 built before the serializer is not.
    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[arg-type]
        apply(request, response, policy_for(request)[0], learned_vary=self.learned_vary(response))
        return response

    def learned_vary(self, response: HttpResponseBase) -> Iterable[str]:
        """What the view's 200s vary on, for a response built without them (R11)."""
        return ()
