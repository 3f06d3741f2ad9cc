"""Cloudflare: ``Cache-Tag`` on responses, purge_cache by tags (or files) through the v4 API."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from .base import Option, PurgeBackend, PurgeError, chunks, is_count, is_text
from .transport import raise_for_status, send


class CloudflareBackend(PurgeBackend):
    """Cloudflare's documented limits: a 16 KB Cache-Tag value (about 1,000 tags), 100 tags a purge."""

    name = "cloudflare"
    header = "Cache-Tag"
    separator = ","
    max_header_bytes = 16384
    max_tags = 1000
    max_tag_bytes = 1024
    max_keys_per_request = 100
    strips_header = True

    options_spec = {
        **PurgeBackend.options_spec,
        "endpoint": PurgeBackend.options_spec["endpoint"]._replace(default="https://api.cloudflare.com"),
        "zone_id": Option(is_text, "the Cloudflare zone ID", required=True),
        "api_token": Option(is_text, "an API token with the Cache Purge permission", required=True, secret=True),
        "urls_per_request": Option(is_count, "a positive number (100; 500 on Enterprise)", 100),
    }

    def purge_keys(self, keys: Sequence[str]) -> None:
        self._purge({"tags": list(keys)}, "purge by tag")

    def purge_urls(self, urls: Sequence[str]) -> None:
        for chunk in chunks(urls, self.option("urls_per_request")):
            self._purge({"files": list(chunk)}, "purge by URL")

    def _purge(self, payload: dict[str, Any], what: str) -> None:
        zone, token = self.require("zone_id", "api_token")
        url = self.api_url(f"/client/v4/zones/{quote(zone, safe='')}/purge_cache")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        reply = send(self.name, "POST", url, headers=headers, body=json.dumps(payload).encode(), timeout=self.timeout)
        raise_for_status(self.name, what, reply)
        answer = reply.json()
        if not (isinstance(answer, dict) and answer.get("success") is True):
            # A 200 without success: the API refused the request itself (its "errors" say why).
            errors = answer.get("errors") if isinstance(answer, dict) else reply.text()
            raise PurgeError(f"{self.name}: {what} was not accepted: {errors}", permanent=True)
