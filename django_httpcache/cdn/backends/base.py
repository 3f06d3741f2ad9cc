"""The purge backend interface every CDN provider implements, and its option checks."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple
from urllib.parse import urlsplit

from ...policy import Problem

__all__ = ["Option", "PurgeBackend", "PurgeError", "chunks"]

SETTING = 'HTTPCACHE["CDN"]["OPTIONS"]'


class PurgeError(Exception):
    """A purge request failed.

    ``retry_after`` is the delay (seconds) the provider asked for, if any;
    ``permanent`` marks failures retrying cannot fix (auth, validation).
    """

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


def is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def is_seconds(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.query


class Option(NamedTuple):
    """One backend option: its validator, what a valid value is, and its default."""

    check: Callable[[Any], bool]
    expected: str
    default: Any = None
    required: bool = False
    secret: bool = False  # never echoed in a check message


def chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    """``items`` in slices of at most ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


class PurgeBackend:
    """Base class: one provider's tag header budget and purge API."""

    name: str = "base"  # used in logs, metrics labels
    header: str | None = "Surrogate-Key"  # response header carrying tags; None: no tags
    separator: str = " "  # between tags in the header
    max_header_bytes: int = 16384  # budget for the whole header value
    max_tags: int | None = None  # per response
    max_tag_bytes: int = 1024  # per tag
    max_keys_per_request: int = 256  # purge API chunk size
    strips_header: bool = True  # does the provider remove the header before clients see it

    options_spec: ClassVar[Mapping[str, Option]] = {
        "endpoint": Option(is_url, "an http(s) URL without a query"),
        "timeout": Option(is_seconds, "a positive number of seconds", 10.0),
    }

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options: dict[str, Any] = dict(options) if isinstance(options, Mapping) else {}
        self.timeout: float = self.option("timeout")

    def option(self, key: str) -> Any:
        """The option's value, or its default when missing or invalid (``problems`` reports it)."""
        spec = self.options_spec[key]
        value = self.options.get(key, spec.default)
        return value if value is not None and spec.check(value) else spec.default

    def api_url(self, path: str) -> str:
        """``path`` under the ``endpoint`` option (a trailing slash there is ignored)."""
        return str(self.option("endpoint")).rstrip("/") + path

    def require(self, *keys: str) -> list[Any]:
        """The values of required options; a permanent PurgeError names the first one missing."""
        values = []
        for key in keys:
            value = self.option(key)
            if value is None:
                raise PurgeError(f"{SETTING}[{key!r}] is missing or invalid for {self.name}.", permanent=True)
            values.append(value)
        return values

    def purge_keys(self, keys: Sequence[str]) -> None:
        """Purge one chunk (at most ``max_keys_per_request``) of surrogate keys."""
        raise NotImplementedError(f"{type(self).__name__} cannot purge by key.")

    def purge_urls(self, urls: Sequence[str]) -> None:
        """Purge absolute URLs (or their paths, for path-based providers)."""
        raise NotImplementedError(f"{type(self).__name__} cannot purge by URL.")

    def problems(self) -> list[Problem]:
        """Option problems, reported by the system checks (ids E041-E044)."""
        problems = []
        for key in sorted(set(self.options) - set(self.options_spec), key=str):
            known = ", ".join(sorted(self.options_spec))
            problems.append(Problem("httpcache.E043", f"{SETTING}[{key!r}] is not an option of {self.name} ({known})."))
        for key, spec in self.options_spec.items():
            value = self.options.get(key)
            if value is None:
                if spec.required:
                    msg = f"{SETTING}[{key!r}] is required by {self.name}: {spec.expected}."
                    problems.append(Problem("httpcache.E041", msg))
            elif not spec.check(value):
                shown = "a value of the wrong kind" if spec.secret else repr(value)
                msg = f"{SETTING}[{key!r}] of {self.name} must be {spec.expected}, not {shown}."
                problems.append(Problem("httpcache.E042", msg))
        return problems
