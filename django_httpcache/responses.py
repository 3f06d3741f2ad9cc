"""The response store: 200s kept under the validator they were sent with (R29).

A body stored under (variant, entity-tag) shows exactly that version of the data, so
it is valid for as long as the tag is current: no TTL decides freshness, ``TIMEOUT``
only evicts. A surface looks the tag it computed from versions (before the data, R25)
up once the preconditions said "proceed" (``lookup``); after a render it names the
final tag, the one sent (``keep``); ``HttpCacheMiddleware`` stores the finished
response (``settle``). The middleware sees the cookies and ``Vary`` that session and
CSRF middleware add on the way out, and sits below GZipMiddleware: entries are
uncompressed, and GZip weakens the tag of a stored 200 exactly as of a rendered one
(R14).

Concurrent misses of one key wait for one render (a lock added with a timeout, so a
lock never released expires). Store failures fall back to rendering, logged once per
outage.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase

from . import trace
from .cachecontrol import parse_cache_control
from .conf import STORE_DEFAULTS, conf, store_settings_problems
from .httputil import MIDDLEWARE_PATH, SAFE_METHODS, header_values, unwrap
from .policy import CachePolicy, Problem, is_credentialed

__all__ = ["keep", "lookup", "options", "settle", "wanted"]

logger = logging.getLogger("django_httpcache")

KEY_PREFIX = "httpcache:resp:"
LOCK_PREFIX = "httpcache:resp-lock:"
PENDING_ATTR = "_httpcache_store"
FORMAT = "1"  # of an entry; a new one makes old entries misses
# Written afresh for every answer (by policy.apply or the server), or never shared.
NOT_KEPT = frozenset({"cache-control", "expires", "date", "age", "set-cookie", "content-length"})


def options() -> dict[str, Any]:
    """HTTPCACHE['RESPONSE_STORE'] with its defaults filled in."""

    def build() -> dict[str, Any]:
        for problem in store_settings_problems(conf.RESPONSE_STORE):  # a bad key falls back alone
            logger.error("%s Using the default (see manage.py check).", problem)
        return _resolve(conf.RESPONSE_STORE)

    found: dict[str, Any] = conf.memo("response_store", build)
    return found


def _resolve(given: Any) -> dict[str, Any]:
    found = {}
    for key, (default, valid, _) in STORE_DEFAULTS.items():
        value = given.get(key, default)
        found[key] = value if valid(value) else default
    return found


def wanted(flag: bool | None, policy: CachePolicy | None) -> bool:
    """Does this view use the store? Its own flag, else its policy's ``store``."""
    return flag if flag is not None else policy is not None and policy.store


@dataclass(slots=True)
class Pending:
    """What one request left for ``settle``: where to store, which lock to release."""

    whom: str
    key: str | None = None
    etag: str | None = None
    variant: str = ""
    lock: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    etag: str
    variant: str
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes
    #: A Cache-Control the view set itself (policy.apply keeps it over the policy's).
    view_header: str | None

    def response(self) -> HttpResponse:
        response = HttpResponse(self.content, status=self.status)
        for name, value in self.headers:
            response.headers[name] = value
        if self.view_header is not None:
            response.headers["Cache-Control"] = self.view_header
        return response


def _digest(*parts: str) -> str:
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=20).hexdigest()


def _whom(request: HttpRequest, policy: CachePolicy | None, user: Any) -> str | None:
    """Whose entries: "" when nobody in particular asked, "user:<pk>" for a signed-in
    user's own (only with PRIVATE), None when the response is not stored (R29)."""
    if not is_credentialed(request) and not (policy is not None and policy.is_private):
        return ""
    if not options()["PRIVATE"]:
        return None
    user = user if user is not None else getattr(unwrap(request), "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None  # an anonymous session: its cookie, not a user, selects the body
    return f"user:{user.pk}"


def lookup(
    request: HttpRequest,
    variant: Callable[[], str],
    etag: str | None,
    *,
    policy: CachePolicy | None,
    seen: bool,
    flag: bool | None = None,
    user: Any = None,
) -> HttpResponse | None:
    """The stored 200 for this variant and tag, or None (render; ``keep`` then says
    where the result goes). Call it once the preconditions said "proceed"."""
    if not wanted(flag, policy):
        return None
    request = unwrap(request)
    found = trace.of(request)
    whom = _whom(request, policy, user)
    if request.method not in SAFE_METHODS or etag is None or whom is None or not _installed():
        found.store = "bypass"
        return None
    pending = request.__dict__[PENDING_ATTR] = Pending(whom)
    found.store = "miss"
    if not seen:
        return None  # the first render may find reads that change the tag: store only
    selected = variant()
    key = _digest(FORMAT, selected, etag, whom)
    entry = _read(key, pending)
    if entry is None or entry.etag != etag or entry.variant != selected:
        return None
    found.store = "hit"
    return entry.response()


def keep(request: HttpRequest, variant: Callable[[], str], etag: str | None) -> None:
    """After a render: the tag sent (the final one, of the final ``variant()``), under
    which ``settle`` stores the response."""
    pending: Pending | None = unwrap(request).__dict__.get(PENDING_ATTR)
    if pending is not None and etag is not None:
        pending.variant, pending.etag = variant(), etag
        pending.key = _digest(FORMAT, pending.variant, etag, pending.whom)


def settle(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Store the finished response if it may be (called by HttpCacheMiddleware)."""
    pending: Pending | None = unwrap(request).__dict__.pop(PENDING_ATTR, None)
    if pending is None:
        return response
    cache = _cache()
    try:
        if pending.key is not None and cache is not None and _storable(request, response, pending):
            opts, entry = options(), _entry(response, pending)
            small = len(entry.content) <= opts["MAX_ENTRY_BYTES"]
            if small and _safely(lambda: cache.set(KEY_PREFIX + pending.key, entry, opts["TIMEOUT"]) or True):
                trace.of(request).store = "stored"
    finally:
        if pending.lock is not None and cache is not None:
            _safely(lambda: cache.delete(LOCK_PREFIX + pending.lock))
    return response


def _storable(request: HttpRequest, response: HttpResponseBase, pending: Pending) -> bool:
    """R29: a complete 200 to a GET, sent under the tag it is stored with, setting no
    cookie, and shared unless the entry is a user's own."""
    if request.method != "GET" or response.status_code != 200 or response.streaming:
        return False
    if response.cookies or "Set-Cookie" in response.headers or response.headers.get("ETag") != pending.etag:
        return False
    vary = {v.lower() for v in header_values(response.headers.get("Vary", ""))}
    directives = {name for name, _ in parse_cache_control(response.headers.get("Cache-Control", ""))}
    if "*" in vary or "no-store" in directives:
        return False
    # Vary: Cookie (SessionMiddleware's, after an authentication lookup) is no bar: the
    # request carried no credentials (else ``whom`` says whose entry it is), and, as
    # for the tag, who asks is the privacy rules' business (R20, R21), not the key's.
    return bool(pending.whom) or "private" not in directives


def _entry(response: HttpResponseBase, pending: Pending) -> Entry:
    applied = getattr(response, "_httpcache_applied", None)
    view_header = applied.view_header if applied is not None else None
    headers = tuple((k, v) for k, v in response.headers.items() if k.lower() not in NOT_KEPT)
    content: bytes = response.content  # type: ignore[attr-defined]
    return Entry(pending.etag or "", pending.variant, response.status_code, headers, content, view_header)


# -- the cache, its lock, its outages --------------------------------------------------------


def _installed() -> bool:
    # Only the middleware sees the cookies added on the way out: no middleware, no store.
    return MIDDLEWARE_PATH in settings.MIDDLEWARE


def _cache() -> Any:
    try:
        return caches[options()["CACHE"]]
    except Exception:  # an alias that is not in CACHES: a system check says so (E045)
        _failed()
        return None


def _read(key: str, pending: Pending) -> Entry | None:
    """The entry, or None after taking the render lock (or waiting for its holder)."""
    cache = _cache()
    if cache is None:
        return None
    entry = _safely(lambda: cache.get(KEY_PREFIX + key))
    if isinstance(entry, Entry):
        return entry
    lock_timeout = options()["LOCK_TIMEOUT"]
    if _safely(lambda: cache.add(LOCK_PREFIX + key, 1, lock_timeout)):
        pending.lock = key
        # Another render may have stored the entry and released its lock between the
        # read above and this add: look once more before rendering it again.
        entry = _safely(lambda: cache.get(KEY_PREFIX + key))
        return entry if isinstance(entry, Entry) else None
    return _wait(cache, key, lock_timeout)


def _wait(cache: Any, key: str, lock_timeout: float) -> Entry | None:
    """One render per version: wait for the holder of the lock to store its result."""
    deadline, delay = time.monotonic() + lock_timeout, 0.002
    while time.monotonic() < deadline:
        time.sleep(delay)
        found = _safely(lambda: cache.get_many([KEY_PREFIX + key, LOCK_PREFIX + key])) or {}
        entry = found.get(KEY_PREFIX + key)
        if isinstance(entry, Entry):
            return entry
        if LOCK_PREFIX + key not in found:
            return None  # released without storing (not storable, or failed): render
        delay = min(delay * 2, 0.05)
    return None


_outage = threading.Event()


def _safely(call: Any) -> Any:
    """``call()``, or None when the store fails: rendering is the fallback, never a 5xx."""
    try:
        result = call()
    except Exception:
        _failed()
        return None
    if _outage.is_set():
        _outage.clear()
        logger.warning("HTTPCACHE['RESPONSE_STORE']: the store answers again.")
    return result


def _failed() -> None:
    if not _outage.is_set():
        _outage.set()
        logger.exception(
            "HTTPCACHE['RESPONSE_STORE']: cache %r failed; rendering every response until it is back.",
            options()["CACHE"],
        )


# -- system checks -------------------------------------------------------------------------


def store_problems() -> list[Problem]:
    """Problems of HTTPCACHE['RESPONSE_STORE'] and of the policies that opt in (checks.py)."""
    given = conf.RESPONSE_STORE
    problems = [Problem("httpcache.E045", msg) for msg in store_settings_problems(given)]
    resolved = _resolve(given)
    alias = resolved["CACHE"]
    if alias not in settings.CACHES:
        msg = f"HTTPCACHE['RESPONSE_STORE']['CACHE'] names {alias!r}, which is not in CACHES."
        problems.append(Problem("httpcache.E046", msg))
    for name, policy in conf.policies().items():
        if not policy.store:
            continue
        where = f"HTTPCACHE['POLICIES'][{name!r}]"
        if not _installed():
            msg = f"{where} has store, but {MIDDLEWARE_PATH} is not in MIDDLEWARE: nothing is stored without it."
            problems.append(Problem("httpcache.W045", msg, warning=True))
        if policy.no_store or (policy.is_private and not resolved["PRIVATE"]):
            msg = (
                f"{where} has store, but its responses are never stored: they are "
                f"{'no-store' if policy.no_store else 'private'} (see HTTPCACHE['RESPONSE_STORE']['PRIVATE'])."
            )
            problems.append(Problem("httpcache.W046", msg, warning=True))
    return problems
