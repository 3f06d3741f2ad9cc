"""Entity-tags: from a body hash, or from a version value plus the variant key.

Every tag is a quoted lowercase hex digest, so it never holds a DQUOTE, space, comma
or control character (R13), and is the same in every process and on every machine
(no ``hash()``, no per-process salt).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils import translation

from .conf import conf
from .policy import CachePolicy

__all__ = ["body_etag", "etag_for", "variant_key"]

_SEP = "\x1f"


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def body_etag(response: HttpResponseBase, algorithm: str | None = None) -> str:
    """A strong tag from the body bytes and the headers that change their meaning (R14)."""
    hasher = hashlib.new(algorithm or conf.BODY_ETAG_ALGORITHM, usedforsecurity=False)
    for header in ("Content-Type", "Content-Encoding", "Content-Language"):
        hasher.update(response.headers.get(header, "").encode("latin-1", "replace"))
        hasher.update(b"\x1f")
    hasher.update(response.content)  # type: ignore[attr-defined]
    return f'"{hasher.hexdigest()}"'


def variant_key(request: HttpRequest, policy: CachePolicy | None, media_type: str = "") -> str:
    """What selects this representation besides the data (R14, R19).

    Path and query string, the negotiated media type, the active language when i18n
    is on, the user when the policy is private, and the configured ETAGGERS.
    """
    request = getattr(request, "_request", request)
    parts = [request.get_full_path(), media_type]
    if settings.USE_I18N:
        parts.append(translation.get_language() or "")
    if policy is not None and policy.is_private:
        user = getattr(request, "user", None)
        parts.append(str(user.pk) if user is not None and user.is_authenticated else "anonymous")
    for etagger in conf.etaggers():
        parts.append(str(etagger(request)))
    return _SEP.join(parts)


def etag_for(values: Iterable[Any], variant: str, *, weak: bool = False) -> str:
    """A tag for a version (any values that change when the data changes) in a variant."""
    text = _SEP.join(map(str, values)) + _SEP + variant
    tag = f'"{_digest(text)}"'
    return "W/" + tag if weak else tag
