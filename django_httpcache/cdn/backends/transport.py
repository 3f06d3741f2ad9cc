"""One HTTP exchange with a purge API (urllib), and how its answer maps to PurgeError."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import Message
from typing import Any

from django.utils.http import parse_http_date_safe

from .base import PurgeError

__all__ = ["Reply", "raise_for_status", "retry_after", "send"]

# 408 and 425 ask for a retry; 429 is a rate limit (RFC 9110 §15.5.9, RFC 6585 §4).
RETRYABLE = frozenset({408, 425, 429})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A purge API that redirects is misconfigured; following it would re-send credentials
    # elsewhere, or turn a POST into a GET.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True)
class Reply:
    """A purge API's answer."""

    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def text(self, limit: int = 300) -> str:
        return self.body[:limit].decode("utf-8", "replace").strip()


def send(
    backend: str, method: str, url: str, *, headers: Mapping[str, str], body: bytes | None = None, timeout: float
) -> Reply:
    """Send one request; any HTTP status is a Reply, a network failure a retryable PurgeError."""
    try:
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
    except ValueError as error:  # not an absolute http(s) URL: retrying cannot fix it
        raise PurgeError(f"{backend}: cannot {method} {url!r}: {error}", permanent=True) from error
    try:
        with _opener.open(request, timeout=timeout) as reply:
            return Reply(reply.status, reply.headers, reply.read())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, error.headers, error.read())
    except (urllib.error.URLError, http.client.HTTPException, OSError) as error:
        reason = getattr(error, "reason", error)
        raise PurgeError(f"{backend}: {method} {url} failed: {reason}") from error


def retry_after(headers: Message, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    when = parse_http_date_safe(value)
    if when is None:
        return None
    return max(0.0, when - (time.time() if now is None else now))


def raise_for_status(backend: str, what: str, reply: Reply, *, wait: float | None = None) -> None:
    """Return on 2xx; else a PurgeError: retryable for 408/425/429/5xx, permanent for the rest.

    ``wait`` is the provider's documented back-off for a 429 that names none.
    """
    if 200 <= reply.status < 300:
        return
    message = f"{backend}: {what} answered {reply.status}: {reply.text()}"
    if reply.status in RETRYABLE or reply.status >= 500:
        delay = retry_after(reply.headers)
        if delay is None and reply.status == 429:
            delay = wait
        raise PurgeError(message, retry_after=delay)
    raise PurgeError(message, permanent=True)
