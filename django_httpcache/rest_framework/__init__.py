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

from .base import CachePolicyMixin, NotModified, PreconditionFailed, PreconditionRequired
from .conditional import ConditionalMixin

__all__ = [
    "CachePolicyMixin",
    "ConditionalMixin",
    "NotModified",
    "PreconditionFailed",
    "PreconditionRequired",
]
