"""System checks of ``HTTPCACHE["CDN"]`` (ids httpcache.E032-E035, W030-W031; docs/settings.md).

The cdn part of a policy is checked with the policy itself (E030, E031 in ``policy``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from ..policy import Problem
from . import CDN_DEFAULTS, SAFE_KEY
from .backends import PurgeBackend, resolve
from .tags import preview

__all__ = ["cdn_problems", "check_cdn"]

WHERE = 'HTTPCACHE["CDN"]'
HEADER_NAME = re.compile(r"\A[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")  # an RFC 9110 token


def _header_name(value: Any) -> bool:
    return isinstance(value, str) and bool(HEADER_NAME.match(value))


# key: (valid?, what a valid value is)
VALID: dict[str, tuple[Any, str]] = {
    "BACKEND": (lambda v: v is None or isinstance(v, str), "None, a backend name or a dotted path"),
    "OPTIONS": (lambda v: isinstance(v, Mapping), "a dict"),
    "HEADER": (lambda v: v is None or _header_name(v), "None or a header name"),
    "PREFIX": (lambda v: isinstance(v, str) and bool(SAFE_KEY.match(v)), "letters, digits, '.', '_' and '-'"),
    "SURROGATE_CONTROL": (lambda v: isinstance(v, bool), "True or False"),
    "STRIP_TAGS": (lambda v: v is False or _header_name(v), "False or the name of a request header the CDN adds"),
    "TASKS": (lambda v: isinstance(v, bool), "True or False"),
}


def cdn_problems(*, views: bool = True) -> list[Problem]:
    """Every problem of ``HTTPCACHE["CDN"]`` (with ``views``, also the views' budgets)."""
    user = getattr(settings, "HTTPCACHE", {})
    raw = user.get("CDN", {}) if isinstance(user, Mapping) else {}
    if not isinstance(raw, Mapping):
        return []  # httpcache.E014 reports it with the other keys
    problems = []
    unknown = sorted(str(key) for key in set(raw) - set(CDN_DEFAULTS))
    if unknown:
        problems.append(
            Problem("httpcache.E032", f"{WHERE} has unknown keys {unknown}; known: {sorted(CDN_DEFAULTS)}.")
        )
    for key, (valid, expected) in VALID.items():
        if key in raw and not valid(raw[key]):
            problems.append(Problem("httpcache.E033", f"{WHERE}[{key!r}] must be {expected}, not {raw[key]!r}."))
    if problems or raw.get("BACKEND") is None:
        return problems
    try:
        backend = resolve(raw["BACKEND"])(raw.get("OPTIONS", {}))
    except ImproperlyConfigured as exc:
        return [Problem("httpcache.E034", str(exc))]
    except Exception as exc:  # a backend refusing its options
        return [Problem("httpcache.E035", f"{WHERE}['OPTIONS'] for {raw['BACKEND']!r}: {exc}")]
    problems += backend.problems()
    if views:
        problems += _budget_problems(backend, raw)
    return problems


def _budget_problems(backend: PurgeBackend, raw: Mapping[str, Any]) -> list[Problem]:
    """W030: the header of a view known to the report would not fit the budget."""
    if backend.header is None and raw.get("HEADER") is None:
        msg = f"{WHERE}: backend {backend.name!r} takes no tag header; set HEADER to send surrogate keys."
        return [Problem("httpcache.W031", msg, warning=True)]
    from ..report import rows  # reads the URLconf: only here, at check time

    prefix = raw.get("PREFIX", "")
    over = [
        row.name or row.route for row in rows() if row.tags and preview(row.tags, backend, prefix).outcome != "fits"
    ]
    if not over:
        return []
    msg = (
        f"{WHERE}: the surrogate keys of {', '.join(over)} exceed the {backend.name} budget; a detail's row "
        "keys are replaced by its model key (see manage.py httpcache_report and docs/cdn.md)."
    )
    return [Problem("httpcache.W030", msg, warning=True)]


@checks.register(checks.Tags.urls, "httpcache")
def check_cdn(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return [(checks.Warning if p.warning else checks.Error)(p.msg, id=p.id) for p in cdn_problems()]
