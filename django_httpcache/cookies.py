"""Cookies that Django's middleware will set after ours ran, foreseen from the request.

Wherever ``HttpCacheMiddleware`` sits in ``MIDDLEWARE``, ``SessionMiddleware``,
``CsrfViewMiddleware`` and ``MessageMiddleware`` decide their ``Set-Cookie`` from
state the view left on the request; ``policy.apply()`` reads that state here so that
the privacy rule (R21) holds before the cookie is written.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.http import HttpRequest

from .httputil import unwrap

__all__ = ["pending_cookie"]


def pending_cookie(request: HttpRequest) -> str:
    """The middleware that will add a ``Set-Cookie`` to this response, or ``""``."""
    request = unwrap(request)
    session: Any = request.__dict__.get("session")  # set by SessionMiddleware (or the test client)
    # SessionMiddleware saves a modified (or, with SESSION_SAVE_EVERY_REQUEST, any)
    # non-empty session and sets its cookie; is_empty() loads nothing.
    saves = session is not None and (getattr(session, "modified", False) or settings.SESSION_SAVE_EVERY_REQUEST)
    if saves and not session.is_empty():
        return "SessionMiddleware"
    # get_token() and rotate_token() ask CsrfViewMiddleware to (re)set its cookie, or
    # the session's CSRF key with CSRF_USE_SESSIONS.
    if request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return "CsrfViewMiddleware"
    if _messages_stored(request.__dict__.get("_messages")):
        return "MessageMiddleware"
    return ""


def _messages_stored(storage: Any) -> bool:
    """Will MessageMiddleware store or clear messages (a cookie, or a session write)?"""
    if storage is None or getattr(storage, "added_new", False):
        return storage is not None
    if not getattr(storage, "used", False):
        return False
    # Read messages are cleared only where some were loaded, except that the cookie
    # storage on its own deletes its cookie after any read.
    return bool(getattr(storage, "_loaded_data", None)) or isinstance(storage, CookieStorage)
