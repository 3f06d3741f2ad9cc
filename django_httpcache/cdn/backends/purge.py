"""A generic HTTP ``PURGE``: of URLs, and of keys through a configurable request header.

For caches you run (Varnish with vmod-xkey, nginx, Squid, a CDN with a purge endpoint):
``endpoint`` is where requests go (a URL purge keeps the URL's Host header), ``key_header`` the
request header listing keys (e.g. ``xkey-purge`` for vmod-xkey).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ...policy import Problem
from .base import SETTING, Option, PurgeBackend, is_bool, is_count, is_text
from .transport import raise_for_status, send

# A key purge sends one request per this many bytes of keys: many servers refuse request
# headers over 8 KB.
REQUEST_HEADER_BUDGET = 8000


def _is_headers(value: Any) -> bool:
    return isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items())


class HTTPPurgeBackend(PurgeBackend):
    """PURGE requests to a cache you run; tag header, separator and limits are options."""

    name = "purge"
    strips_header = False

    options_spec = {
        **PurgeBackend.options_spec,
        "method": Option(is_text, "an HTTP method name", "PURGE"),
        "key_header": Option(is_text, "the request header that lists keys to purge"),
        "headers": Option(_is_headers, "a dict of extra request headers (e.g. auth)", {}),
        "tag_header": Option(is_text, "the response header carrying tags", "Surrogate-Key"),
        "tag_separator": Option(lambda v: v in (" ", ","), "' ' or ','", " "),
        "max_header_bytes": Option(is_count, "a positive number of bytes", 8192),
        "strips_header": Option(is_bool, "True if the cache removes the tag header", False),
    }

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.header = self.option("tag_header")
        self.separator = self.option("tag_separator")
        self.max_header_bytes = self.option("max_header_bytes")
        self.strips_header = self.option("strips_header")

    def purge_keys(self, keys: Sequence[str]) -> None:
        endpoint, key_header = self.option("endpoint"), self.option("key_header")
        if not (endpoint and key_header):
            raise NotImplementedError(f"purge needs {SETTING}['endpoint'] and ['key_header'] to purge keys.")
        batch: list[str] = []
        for key in keys:
            if batch and len(self.separator.join([*batch, key]).encode()) > REQUEST_HEADER_BUDGET:
                self._purge_keys(endpoint, key_header, batch)
                batch = []
            batch.append(key)
        if batch:
            self._purge_keys(endpoint, key_header, batch)

    def _purge_keys(self, endpoint: str, key_header: str, keys: list[str]) -> None:
        headers = {**self.option("headers"), key_header: self.separator.join(keys)}
        reply = send(self.name, self.option("method"), endpoint, headers=headers, timeout=self.timeout)
        raise_for_status(self.name, f"{self.option('method')} of {len(keys)} keys", reply)

    def purge_urls(self, urls: Sequence[str]) -> None:
        endpoint = self.option("endpoint")
        for url in urls:
            headers = dict(self.option("headers"))
            target = url
            if endpoint:
                # Send to the cache, naming the site in Host as a browser would.
                parts = urlsplit(url)
                target = endpoint.rstrip("/") + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                headers["Host"] = parts.netloc
            reply = send(self.name, self.option("method"), target, headers=headers, timeout=self.timeout)
            if reply.status != 404:  # nothing cached under that URL: nothing to purge
                raise_for_status(self.name, f"{self.option('method')} {url}", reply)

    def problems(self) -> list[Problem]:
        problems = super().problems()
        if "key_header" in self.options and "endpoint" not in self.options:
            msg = f"{SETTING}['key_header'] of purge needs ['endpoint']: where the key purges go."
            problems.append(Problem("httpcache.E044", msg))
        return problems
