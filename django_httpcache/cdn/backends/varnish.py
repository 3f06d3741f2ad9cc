"""Varnish: surrogate keys in ``xkey`` (vmod-xkey), purged by a PURGE request.

With ``mode: "xkey"`` (default) a purge is ``PURGE /`` carrying ``xkey-purge: k1 k2 ...``,
which the VCL hands to ``xkey.purge()`` (``xkey.softpurge()`` with ``soft: True``, sent
as ``xkey-softpurge``). With ``mode: "ban"``, for a Varnish without vmod-xkey, it is
``BAN /`` carrying ``xkey-ban: <regex>``, which the VCL turns into
``ban("obj.http.xkey ~ " + req.http.xkey-ban)``. URLs are purged with ``PURGE <path>``.
The VCL this expects is ``example_project/deploy/varnish.vcl`` (docs/cdn.md).
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlsplit

from .base import Option, PurgeBackend, PurgeError, is_bool, is_seconds, is_text, is_url

__all__ = ["VarnishBackend"]

MODES = ("xkey", "ban")


def _is_urls(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(is_url(url) for url in value)


class VarnishBackend(PurgeBackend):
    """Options: ``url`` (default ``http://127.0.0.1:8080``) or ``urls`` (every instance),
    ``mode``, ``soft``, ``host`` (the Host of URL purges), ``timeout``."""

    name = "varnish"
    header = "xkey"
    separator = " "  # vmod-xkey splits on spaces and commas
    max_header_bytes = 8000  # under Varnish's http_resp_hdr_len (8 KiB by default)
    max_tags = None
    max_tag_bytes = 1024
    max_keys_per_request = 128  # keeps the purge header under http_req_hdr_len
    strips_header = False  # the VCL unsets xkey in vcl_deliver

    options_spec: ClassVar[Mapping[str, Option]] = {
        "url": Option(is_url, "the http(s) URL of a Varnish instance", "http://127.0.0.1:8080"),
        "urls": Option(_is_urls, "a list of http(s) URLs of Varnish instances"),
        "mode": Option(lambda v: v in MODES, f"one of {MODES}", "xkey"),
        "soft": Option(is_bool, "True or False", False),
        "host": Option(is_text, "a host name"),
        "timeout": Option(is_seconds, "a positive number of seconds", 5.0),
    }

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.urls = [url.rstrip("/") for url in self.option("urls") or [self.option("url")]]
        self.mode = self.option("mode")
        self.soft = self.option("soft")
        self.host = self.option("host")

    def purge_keys(self, keys: Sequence[str]) -> None:
        if self.mode == "ban":
            pattern = "(^|[ ,])(" + "|".join(re.escape(key) for key in keys) + ")([ ,]|$)"
            self._send("BAN", "/", {"xkey-ban": pattern})
        else:
            name = "xkey-softpurge" if self.soft else "xkey-purge"
            self._send("PURGE", "/", {name: " ".join(keys)})

    def purge_urls(self, urls: Sequence[str]) -> None:
        for url in urls:
            parts = urlsplit(url)
            path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            headers = {"Host": self.host or parts.netloc} if (self.host or parts.netloc) else {}
            self._send("PURGE", path, headers)

    def _send(self, method: str, path: str, headers: dict[str, str]) -> None:
        """One request to every instance; PurgeError when one fails."""
        for base in self.urls:
            request = urllib.request.Request(base + path, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    response.read()
            except urllib.error.HTTPError as exc:
                # 405/403: the VCL refuses purges from here; retrying will not help.
                raise PurgeError(f"{method} {base}{path}: HTTP {exc.code}", permanent=400 <= exc.code < 500) from exc
            except (urllib.error.URLError, OSError) as exc:
                raise PurgeError(f"{method} {base}{path}: {exc}") from exc
