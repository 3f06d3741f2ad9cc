"""Fastly: ``Surrogate-Key`` on responses, batch purge by key through the Fastly API."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from urllib.parse import quote, urlsplit

from .base import Option, PurgeBackend, is_bool, is_text
from .transport import Reply, raise_for_status, send

# Past this many bytes the keys go in the JSON body instead of the Surrogate-Key request
# header: both forms are documented, and many servers refuse request headers over 8 KB.
REQUEST_HEADER_BUDGET = 8000


class FastlyBackend(PurgeBackend):
    """Fastly's documented limits: keys up to 1,024 bytes, a 16,384-byte header, 256 keys a purge."""

    name = "fastly"
    header = "Surrogate-Key"
    separator = " "
    max_header_bytes = 16384
    max_tag_bytes = 1024
    max_keys_per_request = 256
    strips_header = True

    options_spec = {
        **PurgeBackend.options_spec,
        "endpoint": PurgeBackend.options_spec["endpoint"]._replace(default="https://api.fastly.com"),
        "service_id": Option(is_text, "the Fastly service ID", required=True),
        "api_token": Option(is_text, "a Fastly API token with purge_select scope", required=True, secret=True),
        "soft_purge": Option(is_bool, "True or False", False),
    }

    def _headers(self, token: str) -> dict[str, str]:
        headers = {"Fastly-Key": token, "Accept": "application/json"}
        if self.option("soft_purge"):
            headers["Fastly-Soft-Purge"] = "1"  # mark stale instead of evicting
        return headers

    def purge_keys(self, keys: Sequence[str]) -> None:
        service, token = self.require("service_id", "api_token")
        headers, body = self._headers(token), None
        value = " ".join(keys)
        if len(value.encode()) <= REQUEST_HEADER_BUDGET:
            headers["Surrogate-Key"] = value
        else:
            headers["Content-Type"] = "application/json"
            body = json.dumps({"surrogate_keys": list(keys)}).encode()
        url = self.api_url(f"/service/{quote(service, safe='')}/purge")
        self._check("purge by key", send(self.name, "POST", url, headers=headers, body=body, timeout=self.timeout))

    def purge_urls(self, urls: Sequence[str]) -> None:
        (token,) = self.require("api_token")
        for url in urls:
            parts = urlsplit(url)
            target = parts.netloc + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            api = self.api_url(f"/purge/{target}")
            reply = send(self.name, "POST", api, headers=self._headers(token), timeout=self.timeout)
            self._check(f"purge of {url}", reply)

    def _check(self, what: str, reply: Reply) -> None:
        # Fastly's API rate limit names the reset time (epoch seconds), not a delay.
        reset = reply.headers.get("Fastly-RateLimit-Reset", "")
        wait = max(0.0, float(reset) - time.time()) if reset.isdigit() else None
        raise_for_status(self.name, what, reply, wait=wait)
