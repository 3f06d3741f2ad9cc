"""Cache-Control policies: parse and validate settings values, and apply them to a response.

``apply()`` is the only code in the app that writes Cache-Control or Vary; the
safety rules (R20, R21, R23 of docs/conformance.md) live there, once. The header
grammar itself is in ``cachecontrol``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any, NamedTuple

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.functional import empty

from .cachecontrol import (
    DIRECTIVES,
    FIELD_LISTS,
    SECONDS,
    downgrade_header,
    field_names,
    make_private,
    parse_cache_control,
    render,
    seconds,
    shareable,
)
from .cookies import pending_cookie
from .httputil import POLICY_METHODS, unwrap

__all__ = [
    "POLICY_METHODS",
    "CachePolicy",
    "PolicyError",
    "Problem",
    "apply",
    "is_credentialed",
    "parse_cache_control",
]

# Settings that are not directives but travel with a policy.
OPTIONS = ("vary", "force_shared", "store", "cdn")
FRESHNESS = ("max_age", "s_maxage", "stale_while_revalidate", "stale_if_error", "immutable")
IMMUTABLE_MIN_MAX_AGE = 86400  # RFC 8246 §2: "a long max-age"; below a day is suspicious.


class Problem(NamedTuple):
    """One configuration problem: a stable system-check id and a message."""

    id: str
    msg: str
    warning: bool = False


class PolicyError(ValueError):
    """Raised for an invalid inline policy; carries the problems found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(p.msg for p in problems))


@dataclass(frozen=True)
class CachePolicy:
    """A named set of Cache-Control directives plus the Vary it needs.

    Build one with ``CachePolicy.parse(value, name=...)`` from a settings value: a
    header string (``"public, max-age=60"``) or a dict of directives
    (``{"public": True, "max_age": 60}``).
    """

    name: str = ""
    public: bool = False
    private: bool | tuple[str, ...] = False
    no_cache: bool | tuple[str, ...] = False
    no_store: bool = False
    max_age: int | None = None
    s_maxage: int | None = None
    must_revalidate: bool = False
    proxy_revalidate: bool = False
    must_understand: bool = False
    no_transform: bool = False
    immutable: bool = False
    stale_while_revalidate: int | None = None
    stale_if_error: int | None = None
    # Extra request headers that select the representation (R19).
    vary: tuple[str, ...] = ()
    # Keep public/s-maxage even for credentialed or cookie-setting responses (R20, R21).
    force_shared: bool = False
    # Serve 200s from the response store (R29; django_httpcache.responses).
    store: bool = False
    # Set on the fail-safe stand-in for a policy that could not be used.
    invalid: bool = field(default=False, compare=False)
    # Directives for CDNs only: CDN-Cache-Control (RFC 9213), R27.
    cdn: CachePolicy | None = None

    @classmethod
    def parse(cls, value: Any, *, name: str = "") -> CachePolicy:
        """Parse and validate a settings value; raise PolicyError when invalid."""
        problems, kwargs = cls._check(value, name)
        errors = [p for p in problems if not p.warning]
        if errors:
            raise PolicyError(errors)
        return cls(name=name, **kwargs)

    @classmethod
    def problems(cls, value: Any, *, name: str = "") -> list[Problem]:
        """Every problem (errors and warnings) of a settings value, for system checks."""
        return cls._check(value, name)[0]

    @classmethod
    def fail_safe(cls, name: str) -> CachePolicy:
        """Stand-in for an unusable policy: never wrong, so never stored."""
        return cls(name=name, no_store=True, invalid=True)

    @classmethod
    def _check(cls, value: Any, name: str, where: str = "") -> tuple[list[Problem], dict[str, Any]]:
        if not isinstance(name, str):
            msg = f"HTTPCACHE['POLICIES'] has the key {name!r}, which is not a string: policies are named by strings."
            return [Problem("httpcache.E017", msg)], {}
        inline = not name or name.startswith("<")
        where = where or ((name or "the inline policy") if inline else f"HTTPCACHE['POLICIES'][{name!r}]")
        problems: list[Problem] = []
        raw: dict[str, Any]
        if isinstance(value, str):
            try:
                pairs = parse_cache_control(value, strict=True)
            except ValueError as exc:
                return [Problem("httpcache.E002", f"{where}: {exc}.")], {}
            raw = {}
            for key, arg in pairs:
                raw[key.replace("-", "_")] = True if arg is None else arg
        elif isinstance(value, Mapping):
            raw = {str(k).replace("-", "_").lower(): v for k, v in value.items()}
        else:
            msg = f"{where} must be a Cache-Control string or a dict, not {type(value).__name__}."
            return [Problem("httpcache.E002", msg)], {}

        kwargs: dict[str, Any] = {}
        for key, val in raw.items():
            if key not in DIRECTIVES and key not in OPTIONS:
                problems.append(Problem("httpcache.E003", f"{where}: unknown directive {key!r}."))
            elif key in SECONDS:
                secs = seconds(val)
                if secs is None:
                    msg = f"{where}: {key} must be a non-negative integer of seconds, not {val!r}."
                    problems.append(Problem("httpcache.E006", msg))
                else:
                    kwargs[key] = secs
            elif key in FIELD_LISTS:
                if isinstance(val, bool):
                    kwargs[key] = val
                elif (names := field_names(val)) is not None:
                    kwargs[key] = names
                else:
                    msg = f"{where}: {key} takes True or a list of header field names, not {val!r}."
                    problems.append(Problem("httpcache.E009", msg))
            elif key == "cdn":
                cdn, cdn_problems = cls._check_cdn(val, name, where)
                problems += cdn_problems
                if cdn is not None:
                    kwargs[key] = cdn
            elif key == "vary":
                names = field_names(val)
                if names is None:
                    msg = f"{where}: vary takes a list of header field names, not {val!r}."
                    problems.append(Problem("httpcache.E009", msg))
                else:
                    kwargs[key] = names
            elif isinstance(val, bool):
                kwargs[key] = val
            else:
                msg = f"{where}: {key} takes True or False, not {val!r}."
                problems.append(Problem("httpcache.E009", msg))

        # R18: public and private are exclusive.
        if kwargs.get("public") and kwargs.get("private"):
            problems.append(Problem("httpcache.E004", f"{where}: public and private exclude each other."))
        # private forbids shared caches, so directives only they read are dead weight.
        shared_only = [k for k in ("s_maxage", "proxy_revalidate") if kwargs.get(k) not in (None, False)]
        if kwargs.get("private") is True and shared_only:
            msg = f"{where}: private makes {', '.join(shared_only)} meaningless (shared caches only)."
            problems.append(Problem("httpcache.W006", msg, warning=True))
        # R18: no-store wins over everything, so freshness beside it is a mistake.
        if kwargs.get("no_store"):
            clash = [k for k in (*FRESHNESS, "public") if kwargs.get(k) not in (None, False)]
            if clash:
                msg = f"{where}: no-store cannot be combined with {', '.join(clash)}."
                problems.append(Problem("httpcache.E005", msg))
        # R22: immutable only with a (long) max-age.
        if kwargs.get("immutable"):
            max_age = kwargs.get("max_age")
            if max_age is None:
                problems.append(Problem("httpcache.E007", f"{where}: immutable needs a max-age."))
            elif max_age < IMMUTABLE_MIN_MAX_AGE:
                msg = f"{where}: immutable with max-age={max_age}; RFC 8246 expects a long lifetime."
                problems.append(Problem("httpcache.W003", msg, warning=True))
        # R22: must-understand goes with no-store (RFC 9111 §5.2.2.3).
        if kwargs.get("must_understand") and not kwargs.get("no_store"):
            problems.append(Problem("httpcache.E008", f"{where}: must-understand needs no-store."))
        # R27: a CDN lifetime for a response no shared cache may keep is a contradiction.
        if kwargs.get("cdn") is not None and (kwargs.get("private") or kwargs.get("no_store")):
            msg = f"{where}: a cdn part needs a policy shared caches may store (not private or no-store)."
            problems.append(Problem("httpcache.E031", msg))
        return problems, kwargs

    @classmethod
    def _check_cdn(cls, value: Any, name: str, where: str) -> tuple[CachePolicy | None, list[Problem]]:
        """The ``cdn`` part: Cache-Control's own grammar and checks (R27), no options."""
        where = f"{where}['cdn']"
        if isinstance(value, Mapping):
            nested = sorted(str(k) for k in value if str(k).replace("-", "_").lower() in OPTIONS)
            if nested:
                return None, [Problem("httpcache.E030", f"{where}: {', '.join(nested)} belong to the policy itself.")]
        problems, kwargs = cls._check(value, name, where)
        if any(not p.warning for p in problems):
            return None, problems
        return cls(name=f"{name}[cdn]", **kwargs), problems

    # -- rendering ----------------------------------------------------------------

    def render(self) -> str:
        """The Cache-Control value of this policy."""
        return render({f.name: getattr(self, f.name) for f in fields(self) if f.name in DIRECTIVES})

    @cached_property
    def header(self) -> str:
        return self.render()

    @cached_property
    def credentialed_header(self) -> str:
        """R20/R21: what a credentialed or cookie-setting response gets."""
        if self.no_store or self.force_shared:
            return self.header
        return render(make_private(self._directives()))

    def error_header(self, private: bool) -> str:
        """R23: errors keep the policy's privacy but get no freshness lifetime."""
        if self.no_store:
            return "no-store"
        return "private, no-cache" if private or self.private else "no-cache"

    def _directives(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in DIRECTIVES}

    @property
    def is_private(self) -> bool:
        return bool(self.private)


# -- application ------------------------------------------------------------------

CREDENTIAL_VARY = ("Authorization", "Cookie")


def is_credentialed(request: HttpRequest) -> bool:
    """Does the response to this request depend on who asks? (R20, R21)

    Decided from the request alone, so that a 304 and the 200 it stands for get the
    same Cache-Control (R12): an Authorization header, the session cookie, or a user
    that authentication has already resolved to someone.
    """
    request = unwrap(request)
    by_headers = request.__dict__.get("_httpcache_credentials")
    if by_headers is None:  # fixed for the request: decided once
        by_headers = "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES
        request.__dict__["_httpcache_credentials"] = by_headers
    if by_headers:
        return True
    user = request.__dict__.get("user")
    if user is None:
        return False
    if getattr(user, "_wrapped", None) is empty:  # lazy and never looked at
        return False
    return bool(getattr(user, "is_authenticated", False))


TEMPORARY_REDIRECTS = frozenset({302, 303, 307})


def gets_no_freshness(status: int) -> bool:
    """R23: errors (5xx, 4xx but 404/410) must not get a policy's freshness lifetime.

    Temporary redirects neither: a login redirect stored by a CDN for ten minutes
    would send everyone to the login page.
    """
    return status >= 500 or (400 <= status < 500 and status not in (404, 410)) or status in TEMPORARY_REDIRECTS


@dataclass
class _Applied:
    """What apply() remembers on a response, so later calls are idempotent."""

    view_header: str | None
    policy: CachePolicy | None
    inputs: tuple[Any, ...] = ()
    # CDN-Cache-Control / Surrogate-Control the view set itself (R27).
    view_cdn: dict[str, str] = field(default_factory=dict)


def apply(
    request: HttpRequest, response: HttpResponseBase, policy: CachePolicy | None, *, learned_vary: Iterable[str] = ()
) -> None:
    """Write Cache-Control and Vary on ``response`` for ``policy``.

    The one place that writes these headers. It may run more than once on the same
    response (decorator, then middleware after other middleware set cookies): the
    first policy given sticks, and each call re-derives the header from it.

    Merge rule: a Cache-Control the view set itself is kept instead of the policy's,
    but the privacy rule (R20, R21) applies to it too. Policies are for GET and HEAD:
    responses to other methods keep only what the view set (with the privacy rule).

    ``learned_vary``: what the view's 200s were seen to vary on, for a response built
    without running the view (a 304 repeats the 200's Vary, R11).
    """
    learned = tuple(sorted(learned_vary))
    request = unwrap(request)  # once, for the helpers below
    if request.method not in POLICY_METHODS:
        policy = None
    applied: _Applied | None = response.__dict__.get("_httpcache_applied")
    if applied is None:
        headers = response.headers
        view_header = headers.get("Cache-Control")
        view_cdn = {name: headers[name] for name in CDN_HEADERS if name in headers}
        if policy is None and view_header is None and not view_cdn:
            # Nothing to write or to make private (a later call may bring a policy).
            _patch_vary(response, learned)
            return
        applied = _Applied(view_header, policy, view_cdn=view_cdn)
        response._httpcache_applied = applied  # type: ignore[attr-defined]
    elif applied.policy is None:
        applied.policy = policy
    policy = applied.policy

    force_shared = policy is not None and policy.force_shared
    # A cookie set through response.cookies, written as a raw header (a proxied
    # upstream's Set-Cookie), or that Django's session, CSRF or messages middleware will
    # add after this ran (any MIDDLEWARE order): the response is someone's (R21).
    sets_cookie = bool(response.cookies) or "Set-Cookie" in response.headers or bool(pending_cookie(request))
    private_response = (is_credentialed(request) or sets_cookie) and not force_shared
    inputs = (policy, private_response, response.status_code)
    if applied.inputs == inputs:
        _patch_vary(response, learned)
        return  # nothing else changed since the last call
    applied.inputs = inputs
    vary: tuple[str, ...] = ()
    cdn_header: str | None = None

    if applied.view_header is not None:
        header = applied.view_header
        if private_response and shareable(header):
            header = downgrade_header(header)
            vary = CREDENTIAL_VARY
    elif policy is not None:
        status = response.status_code
        # An immutable policy describes content that never changes: other answers (a 404
        # for an asset not deployed yet) must not be kept for its year either.
        changeable = policy.immutable and not (200 <= status < 300 or status == 304)
        if changeable or gets_no_freshness(status):
            header = policy.error_header(private_response)
        elif private_response:
            header = policy.credentialed_header
        else:
            header = policy.header
            cdn_header = None if policy.cdn is None else policy.cdn.header
        if (policy.private or private_response) and not policy.no_store:
            vary = CREDENTIAL_VARY
    else:
        _write_cdn(response, applied, None, private_response, surrogate=False)
        _patch_vary(response, learned)
        return

    _write_cdn(response, applied, cdn_header, private_response, surrogate=surrogate_control())
    response.headers["Cache-Control"] = header
    _patch_vary(response, learned + (policy.vary if policy is not None else ()) + vary)


def _patch_vary(response: HttpResponseBase, names: tuple[str, ...]) -> None:
    if names:  # one call: patch_vary_headers re-parses the header each time
        # It leaves repeats within the names it is given: drop them (by lowercase name).
        unique: dict[str, str] = {}
        for name in names:
            unique.setdefault(name.lower(), name)
        patch_vary_headers(response, list(unique.values()))


CDN_HEADERS = ("CDN-Cache-Control", "Surrogate-Control")


def _no_surrogate_control() -> bool:
    return False


#: Whether a policy's cdn part is also written as Surrogate-Control: conf, which imports
#: this module, installs HTTPCACHE["CDN"]["SURROGATE_CONTROL"] here.
surrogate_control: Callable[[], bool] = _no_surrogate_control


def _write_cdn(
    response: HttpResponseBase, applied: _Applied, value: str | None, private_response: bool, *, surrogate: bool
) -> None:
    """R27: the CDN's own lifetime (RFC 9213), only where Cache-Control gives a shared one.

    ``value`` is the policy's cdn part, None for a private response, an error or a policy
    without one (the CDN then follows Cache-Control). A header the view set is kept, with
    the privacy rule (R20, R21) applied to it as to Cache-Control.
    """
    for name in CDN_HEADERS:
        header = applied.view_cdn.get(name)
        if header is None:
            header = value if name == "CDN-Cache-Control" or surrogate else None
        elif private_response and shareable(header):
            header = downgrade_header(header) if name == "CDN-Cache-Control" else "no-store"
        if header is None:
            if name in response.headers:
                del response.headers[name]
        else:
            response.headers[name] = header
