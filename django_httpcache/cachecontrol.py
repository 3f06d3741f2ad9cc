"""The Cache-Control header: its directives, a parser that keeps quoted field-name
lists whole (R18), rendering in a fixed order, and the privacy downgrade (R20, R21)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["DIRECTIVES", "downgrade_header", "parse_cache_control", "render", "shareable"]

# Response directives: RFC 9111 §5.2.2, RFC 5861 (stale-*), RFC 8246 (immutable).
FLAGS = (
    "public",
    "no_store",
    "must_revalidate",
    "proxy_revalidate",
    "must_understand",
    "no_transform",
    "immutable",
)
FIELD_LISTS = ("private", "no_cache")  # True, or a list of field names (R18)
SECONDS = ("max_age", "s_maxage", "stale_while_revalidate", "stale_if_error")
DIRECTIVES = frozenset(FLAGS + FIELD_LISTS + SECONDS)
# Rendering order: privacy first, then storage, freshness, revalidation, extensions.
ORDER = (
    "public",
    "private",
    "no_cache",
    "no_store",
    "max_age",
    "s_maxage",
    "must_revalidate",
    "proxy_revalidate",
    "must_understand",
    "no_transform",
    "immutable",
    "stale_while_revalidate",
    "stale_if_error",
)

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN_RE = re.compile(rf"\A{_TOKEN}\Z")
# One directive: name, then optionally "=" token or quoted-string (RFC 9111 §5.2).
_DIRECTIVE_RE = re.compile(rf'[ \t]*({_TOKEN})[ \t]*(?:=[ \t]*(?:"((?:[^"\\]|\\.)*)"|({_TOKEN})))?[ \t]*(,|\Z)')


def parse_cache_control(value: str, *, strict: bool = False) -> list[tuple[str, str | None]]:
    """Split a Cache-Control value into ``(name, value)`` pairs, names lowercased.

    Django's ``patch_cache_control`` splits on every comma, which breaks the quoted
    field-name lists that ``private`` and ``no-cache`` may carry (R18), hence this
    small parser. In lenient mode (response headers) junk is skipped; in strict mode
    (settings) it raises ValueError.
    """
    pairs: list[tuple[str, str | None]] = []
    pos, end = 0, len(value)
    while pos < end:
        match = _DIRECTIVE_RE.match(value, pos)
        if match is None:
            if strict:
                raise ValueError(f"cannot parse {value[pos:]!r}")
            comma = value.find(",", pos)
            pos = end if comma < 0 else comma + 1
            continue
        name, quoted, token, _ = match.groups()
        arg = token if quoted is None else re.sub(r"\\(.)", r"\1", quoted)
        pairs.append((name.lower(), arg))
        pos = match.end()
    return pairs


def field_names(value: Any) -> tuple[str, ...] | None:
    """Normalise a field-name list (string or iterable); None when invalid."""
    if isinstance(value, str):
        names = [part.strip() for part in value.split(",")]
    elif isinstance(value, Iterable) and not isinstance(value, (bytes, Mapping)):
        names = list(value)
    else:
        return None
    if not names or not all(isinstance(n, str) and _TOKEN_RE.match(n) for n in names):
        return None
    return tuple(names)


def seconds(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit() and value.isascii():
        value = int(value)
    if isinstance(value, int) and value >= 0:
        return value
    return None


def make_private(directives: dict[str, Any]) -> dict[str, Any]:
    """Drop what lets a shared cache store or reuse the response (R20, R21)."""
    out = dict(directives)
    out.update(public=False, s_maxage=None, proxy_revalidate=False, private=True)
    return out


def render(directives: Mapping[str, Any]) -> str:
    parts = []
    for name in ORDER:
        value = directives.get(name)
        if value is None or value is False:
            continue
        token = name.replace("_", "-")
        if value is True:
            parts.append(token)
        elif isinstance(value, tuple):
            parts.append(f'{token}="{", ".join(value)}"')
        else:
            parts.append(f"{token}={value}")
    return ", ".join(parts)


def downgrade_header(value: str) -> str:
    """R20/R21 for a Cache-Control the view wrote itself."""
    pairs = parse_cache_control(value)
    names = {name for name, _ in pairs}
    if "no-store" in names:
        return value
    kept = [(n, v) for n, v in pairs if n not in ("public", "s-maxage", "proxy-revalidate", "private")]
    parts = ["private"] + [n if v is None else f"{n}={quote(v)}" for n, v in kept]
    return ", ".join(parts)


def quote(value: str) -> str:
    return value if _TOKEN_RE.match(value) else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def shareable(value: str) -> bool:
    """May a shared cache store a response with this Cache-Control?"""
    for name, arg in parse_cache_control(value):
        if name == "no-store" or (name == "private" and arg is None):
            return False
    return True
