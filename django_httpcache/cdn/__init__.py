"""Behind a CDN: surrogate keys on responses and purges after commit (docs/cdn.md).

``HTTPCACHE["CDN"]`` configures a purge backend (``backends``); ``tags`` writes each
conditional response's keys in the backend's header, within its budget; ``purge``
sends the keys of committed changes to the backend, outside the request (R28).

Keys name what a representation is built from (docs/cdn.md): ``<PREFIX><label>`` for
a tracked model whose versions its validators cover, ``<PREFIX><label>.<pk>`` for the row
of a detail, and ``<PREFIX><label>._rows`` on every detail of the model, for changes that
do not say which rows they touched. They use letters, digits, ``.``, ``_`` and ``-``
only, which every provider accepts.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..conf import conf
from ..httputil import log_once
from .backends import PurgeBackend, load_backend

__all__ = [
    "CDN_DEFAULTS",
    "CdnSettings",
    "cdn_settings",
    "change_keys",
    "model_key",
    "object_key",
    "rows_key",
    "warn_once",
]

logger = logging.getLogger("django_httpcache")

CDN_DEFAULTS: dict[str, Any] = {
    "BACKEND": None,  # "varnish", "fastly", ... or a dotted path; None: no tags, no purges
    "OPTIONS": {},  # passed to the backend
    "HEADER": None,  # the tag header's name; None: the backend's
    "PREFIX": "",  # put before every key (several sites on one CDN account)
    "SURROGATE_CONTROL": False,  # also write a policy's cdn part as Surrogate-Control
    "STRIP_TAGS": False,  # False, or a request header only the CDN sends: tags only then
    "TASKS": True,  # send purges through Django's Tasks framework when one is configured
}

SAFE_KEY = re.compile(r"\A[A-Za-z0-9_.-]*\Z")


@dataclass(frozen=True)
class CdnSettings:
    """``HTTPCACHE["CDN"]`` with its defaults, and the backend built from it."""

    backend: PurgeBackend
    header: str | None  # None: the backend takes none (CloudFront): purges only
    prefix: str
    strip_tags: str | None
    tasks: bool


def _build() -> CdnSettings | None:
    raw = conf.CDN
    if not raw or raw.get("BACKEND") is None:
        return None
    from .checks import cdn_problems  # the checks import this module

    errors = [p for p in cdn_problems(views=False) if not p.warning]
    if errors:
        logger.error("%s Tags and purges are off until it is fixed.", " ".join(p.msg for p in errors))
        return None
    values = {**CDN_DEFAULTS, **raw}
    backend = load_backend(values["BACKEND"], values["OPTIONS"])
    strip = values["STRIP_TAGS"]
    return CdnSettings(
        backend=backend,
        header=values["HEADER"] or backend.header,
        prefix=values["PREFIX"],
        strip_tags=strip if isinstance(strip, str) else None,
        tasks=bool(values["TASKS"]),
    )


def cdn_settings() -> CdnSettings | None:
    """The CDN configuration, or None when there is none (or it is invalid: logged)."""
    found: CdnSettings | None = conf.memo("cdn", _build)
    return found


def model_key(label: str, prefix: str = "") -> str:
    """The key of every representation built from the tracked model ``label``."""
    return f"{prefix}{label}"


def object_key(label: str, pk: Any, prefix: str = "") -> str:
    """The key of the representations of one row; a pk with other characters is hashed."""
    text = str(pk)
    if not text or not SAFE_KEY.match(text):
        text = "h" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]
    return f"{prefix}{label}.{text}"


def rows_key(label: str, prefix: str = "") -> str:
    """The key every detail of ``label`` carries besides its object's key."""
    return f"{prefix}{label}._rows"


def change_keys(label: str, pks: Iterable[Any] | None, prefix: str = "") -> list[str]:
    """What a change to ``label`` purges: its model key, and the changed rows' keys, or
    every row's when they are not known (a bulk operation)."""
    if pks is None:
        return [model_key(label, prefix), rows_key(label, prefix)]
    return [model_key(label, prefix), *(object_key(label, pk, prefix) for pk in pks)]


def warn_once(key: str, message: str, *args: Any) -> None:
    """Log a runtime fallback of the CDN part once per process (per ``key``)."""
    log_once(logging.WARNING, f"cdn:{key}", message, *args)
