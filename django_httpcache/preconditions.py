"""RFC 9110 §13.2.2 precondition evaluation: the only code that reads If-* headers.

``evaluate()`` decides; ``not_modified()`` and ``precondition_failed()`` build the
short responses. Surfaces (decorators, middleware, DRF mixins) gather the validators
and call these. Rule ids (R01...) are those of docs/conformance.md.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.http.response import HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.http import http_date, parse_etags, parse_http_date_safe

from . import trace
from .conf import conf
from .httputil import IGNORED_METHODS, SAFE_METHODS, WRITE_METHODS, epoch_seconds

__all__ = [
    "IGNORED_METHODS",
    "SAFE_METHODS",
    "WRITE_METHODS",
    "Validators",
    "evaluate",
    "mark_evaluated",
    "not_modified",
    "precondition_failed",
    "set_validators",
    "was_evaluated",
]

NOT_MODIFIED = HTTPStatus.NOT_MODIFIED
PRECONDITION_FAILED = HTTPStatus.PRECONDITION_FAILED
PRECONDITION_REQUIRED = HTTPStatus.PRECONDITION_REQUIRED

# R11: the headers a 304 repeats from the 200 it stands for.
NOT_MODIFIED_HEADERS = ("Cache-Control", "Content-Location", "Date", "ETag", "Expires", "Last-Modified", "Vary")
_GZIP_MIDDLEWARE = "django.middleware.gzip.GZipMiddleware"
_ACCEPTS_GZIP = re.compile(r"\bgzip\b")  # the test GZipMiddleware makes


@dataclass(frozen=True, slots=True)
class Validators:
    """What a surface knows about the current representation.

    ``etag`` is a full entity-tag (``'"abc"'`` or ``'W/"abc"'``). ``last_modified`` is
    in whole seconds since the epoch. ``modified_recently`` marks a Last-Modified still
    inside the settle window (``HTTPCACHE['LAST_MODIFIED_SETTLE']``): it is neither sent
    nor used to answer If-Modified-Since, because a second change within the same
    second, or a transaction that commits late, would hide behind it (RFC 9110
    §8.8.2.2); If-Unmodified-Since still uses it, conservatively. ``exists`` is False
    when there is no current representation and None when it is unknown (a page of a
    list): ``*`` then neither matches If-None-Match nor fails If-Match.
    """

    etag: str | None = None
    last_modified: int | None = None
    exists: bool | None = True
    modified_recently: bool = False
    #: Built from model versions (stamps, store tokens) that a transaction moves only
    #: after it commits, not from the row itself.
    model_level: bool = field(default=False, compare=False)

    @classmethod
    def from_response(cls, response: HttpResponseBase) -> Validators:
        last_modified = response.headers.get("Last-Modified")
        return cls(
            etag=response.headers.get("ETag"),
            last_modified=parse_http_date_safe(last_modified) if last_modified else None,
        )


def last_modified(
    value: datetime.datetime | int | float | None, *, now: float, settle: float
) -> tuple[int | None, bool]:
    """Whole seconds since the epoch, and whether that is within ``settle`` of now.

    A value in the future (clock skew) counts as recent, so it is never sent: a
    Last-Modified is never later than the response's Date (R15).
    """
    if value is None:
        return None, False
    if isinstance(value, datetime.datetime):
        value = epoch_seconds(value)
    seconds = math.floor(value)
    return seconds, seconds + 1 + settle > now


def _opaque(tag: str) -> str:
    return tag[2:] if tag.startswith("W/") else tag


def _if_match(value: str, current: Validators) -> bool:
    """R04: strong comparison; ``*`` matches any current representation."""
    if value.strip() == "*":
        return current.exists is not False
    etag = current.etag
    if current.exists is False or etag is None or etag.startswith("W/"):
        return False
    if value == etag:  # the usual case: the client echoes the tag it was given
        return True
    # parse_etags drops malformed members, so garbage leaves nothing to match (§13.1.1).
    return etag in parse_etags(value)


def _if_none_match(value: str, current: Validators) -> bool:
    """R07: True when the header matches, i.e. the condition is *false*."""
    if value.strip() == "*":
        return current.exists is True
    etag = current.etag
    if current.exists is False or etag is None:
        return False
    if value == etag:
        return True
    target = _opaque(etag)  # weak comparison
    return any(_opaque(tag) == target for tag in parse_etags(value))


def evaluate(request: HttpRequest, current: Validators, *, require_if_match: bool | None = False) -> HTTPStatus | None:
    """RFC 9110 §13.2.2: 304 or 412 when a precondition says so, else None (proceed).

    With ``require_if_match`` (None: HTTPCACHE['REQUIRE_IF_MATCH']), a PUT/PATCH/DELETE
    of an existing resource without If-Match is 428 (RFC 6585 §3, R17). Call it only
    where the response without preconditions would be 2xx (R01): after authentication,
    permission and existence checks.
    """
    method = request.method or "GET"
    if method in IGNORED_METHODS:  # R02
        return None
    decision = _evaluate(method, request.META, current)
    if trace.EXPLAIN in request.__dict__:  # only while the debug-toolbar panel collects
        trace.of(request).steps.extend(describe(method, request.META, current, decision))
    if decision is not None or method not in WRITE_METHODS or not current.exists or "HTTP_IF_MATCH" in request.META:
        # A failed precondition is the answer even where If-Match is required: the
        # request was conditional (If-None-Match: * on an existing row is 412, not 428).
        return decision
    if require_if_match is None:
        require_if_match = conf.REQUIRE_IF_MATCH
    return PRECONDITION_REQUIRED if require_if_match else None


def evaluate_rendered(request: HttpRequest, current: Validators) -> HTTPStatus | None:
    """After a GET/HEAD rendered a 2xx: a representation exists even where the surface
    could not tell before (a list's page), so ``If-None-Match: *`` matches it (R07)."""
    if current.exists is not None or "HTTP_IF_NONE_MATCH" not in request.META:
        return None
    return evaluate(request, replace(current, exists=True))


def _evaluate(method: str, meta: Any, current: Validators) -> HTTPStatus | None:
    # Step 1 (R03): If-Match; a failure means the method is not performed (R05).
    if_match = meta.get("HTTP_IF_MATCH")
    if if_match is not None:
        if not _if_match(if_match, current):
            return PRECONDITION_FAILED
    # Step 2: If-Unmodified-Since, only without If-Match, and only when the
    # resource has a Last-Modified (R06; Django answers 412 there).
    elif current.last_modified is not None:
        value = meta.get("HTTP_IF_UNMODIFIED_SINCE")
        if value is not None:
            # parse_http_date_safe: None for invalid dates and for lists of dates,
            # which R06 and R09 both say to ignore.
            date = parse_http_date_safe(value)
            if date is not None and current.last_modified > date:
                return PRECONDITION_FAILED

    # Step 3: If-None-Match (R07); a match is 304 for GET/HEAD, else 412 (R08).
    if_none_match = meta.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        if _if_none_match(if_none_match, current):
            return NOT_MODIFIED if method in SAFE_METHODS else PRECONDITION_FAILED
        return None

    # Step 4: If-Modified-Since, GET/HEAD only, whole seconds (R09).
    if method in SAFE_METHODS and current.last_modified is not None and not current.modified_recently:
        value = meta.get("HTTP_IF_MODIFIED_SINCE")
        if value is not None:
            date = parse_http_date_safe(value)
            if date is not None and current.last_modified <= date:
                return NOT_MODIFIED
    return None


def describe(method: str, meta: Any, current: Validators, decision: HTTPStatus | None) -> list[str]:
    """The steps ``_evaluate`` took, in words (R03 order), for the debug-toolbar panel."""
    steps = []
    headers = ("If-Match", "If-Unmodified-Since", "If-None-Match", "If-Modified-Since")
    for header in headers:
        value = meta.get("HTTP_" + header.upper().replace("-", "_"))
        if value is not None:
            steps.append(f"{method}: {header}: {value[:120]}")
    current_tag = current.etag or "none"
    if current.exists is False:
        current_tag += " (no current representation)"
    verdict = "proceed" if decision is None else f"{int(decision)} {decision.phrase}"
    steps.append(f"current ETag {current_tag}, Last-Modified {current.last_modified or 'none'}: {verdict}")
    return steps


def mark_evaluated(response: HttpResponseBase) -> None:
    """The preconditions of this response were decided (or its validators are set by a
    surface): the middleware leaves it alone."""
    response._httpcache_evaluated = True  # type: ignore[attr-defined]


def was_evaluated(response: HttpResponseBase) -> bool:
    return bool(getattr(response, "_httpcache_evaluated", False))


def set_validators(response: HttpResponseBase, current: Validators) -> None:
    """Attach ETag and (once settled) Last-Modified, unless the view set its own."""
    if current.etag is not None and "ETag" not in response.headers:
        response.headers["ETag"] = current.etag
    if current.last_modified is not None and not current.modified_recently and "Last-Modified" not in response.headers:
        response.headers["Last-Modified"] = http_date(current.last_modified)


def not_modified(
    request: HttpRequest, current: Validators, source: HttpResponseBase | None = None
) -> HttpResponseNotModified:
    """A 304 carrying what the 200 would have carried (R11, R12).

    With ``source`` (the full response) its headers and cookies are copied; without
    it (short circuit before the view) the validators are set, and policy.apply()
    later writes the same Cache-Control and Vary as for a 200.
    """
    response = HttpResponseNotModified()
    if source is not None:
        for header in NOT_MODIFIED_HEADERS:
            if header in source.headers:
                response.headers[header] = source.headers[header]
        response.cookies = source.cookies
        applied = getattr(source, "_httpcache_applied", None)
        if applied is not None:
            response._httpcache_applied = applied  # type: ignore[attr-defined]
    set_validators(response, current)
    _mirror_gzip(request, response, source)
    return response


def _mirror_gzip(request: HttpRequest, response: HttpResponseBase, source: HttpResponseBase | None) -> None:
    """Give the 304 the ETag and Vary GZipMiddleware gives the 200 (R11, R14).

    GZipMiddleware skips bodiless responses, so a 304 would otherwise carry the strong
    tag and lack Vary: Accept-Encoding while the compressed 200 had W/ and the Vary.
    With the 200 at hand its own rules decide; without it (a 304 before the view) the
    200 is assumed compressible: a weak tag is always a safe claim.
    """
    if _GZIP_MIDDLEWARE not in settings.MIDDLEWARE:
        return
    if source is not None and (
        source.streaming or "Content-Encoding" in source.headers or len(source.content) < 200  # type: ignore[attr-defined]
    ):
        return
    patch_vary_headers(response, ("Accept-Encoding",))
    etag = response.headers.get("ETag")
    if etag and etag.startswith('"') and _ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
        response.headers["ETag"] = "W/" + etag


def precondition_failed(request: HttpRequest, current: Validators | None = None) -> HttpResponse:
    """A plain 412 (R05, R06, R08); DRF views render their own error body."""
    response = HttpResponse(
        b"Precondition Failed\n", status=PRECONDITION_FAILED, content_type="text/plain; charset=utf-8"
    )
    if current is not None:
        set_validators(response, current)
    return response


def precondition_required(request: HttpRequest) -> HttpResponse:
    """RFC 6585 §3 (R17)."""
    return HttpResponse(
        b"Precondition Required: send If-Match with the ETag you last received\n",
        status=HTTPStatus.PRECONDITION_REQUIRED,
        content_type="text/plain; charset=utf-8",
    )
