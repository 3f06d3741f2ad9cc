"""Akamai: ``Edge-Cache-Tag`` on responses, Fast Purge v3 by cache tag, EdgeGrid-signed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from urllib.parse import quote

from ...policy import Problem
from .base import SETTING, Option, PurgeBackend, is_count, is_text
from .edgegrid import authorization
from .transport import raise_for_status, send

NETWORKS = ("production", "staging")
ACTIONS = ("invalidate", "delete")
# Fast Purge refuses bodies over 50,000 bytes (413); URL purges are chunked under it.
MAX_BODY = 50000
# "Wait five seconds, then retry" is Fast Purge's documented answer to a 429.
RATE_LIMIT_WAIT = 5.0


class AkamaiBackend(PurgeBackend):
    """Akamai's documented limits: 128 tags of at most 128 characters, 8,192-byte reply headers."""

    name = "akamai"
    header = "Edge-Cache-Tag"
    separator = ","
    max_header_bytes = 8192
    max_tags = 128
    max_tag_bytes = 128
    # 300 tags of 128 characters, quoted and comma-separated, stay under the 50,000-byte body.
    max_keys_per_request = 300
    strips_header = True

    options_spec = {
        **PurgeBackend.options_spec,
        "host": Option(is_text, "the API client's host (akab-….luna.akamaiapis.net)", required=True),
        "client_token": Option(is_text, "the API client's client_token", required=True, secret=True),
        "client_secret": Option(is_text, "the API client's client_secret", required=True, secret=True),
        "access_token": Option(is_text, "the API client's access_token", required=True, secret=True),
        "network": Option(lambda v: v in NETWORKS, "'production' or 'staging'", "production"),
        "action": Option(lambda v: v in ACTIONS, "'invalidate' (soft) or 'delete'", "invalidate"),
        "max_body": Option(is_count, "the bytes of a body EdgeGrid signs (131072)", 131072),
    }

    def purge_keys(self, keys: Sequence[str]) -> None:
        self._purge("tag", list(keys))

    def purge_urls(self, urls: Sequence[str]) -> None:
        batch: list[str] = []
        size = len('{"objects":[]}')
        for url in urls:
            cost = len(json.dumps(url).encode()) + 1  # quoted, and a comma
            if batch and size + cost > MAX_BODY:
                self._purge("url", batch)
                batch, size = [], len('{"objects":[]}')
            batch.append(url)
            size += cost
        if batch:
            self._purge("url", batch)

    def _purge(self, kind: str, objects: list[str]) -> None:
        host, client_token, client_secret, access_token = self.require(
            "host", "client_token", "client_secret", "access_token"
        )
        base = (self.option("endpoint") or f"https://{host}").rstrip("/")
        url = f"{base}/ccu/v3/{self.option('action')}/{kind}/{quote(self.option('network'))}"
        body = json.dumps({"objects": objects}, separators=(",", ":")).encode()
        signature = authorization(
            "POST",
            url,
            body=body,
            client_token=client_token,
            client_secret=client_secret,
            access_token=access_token,
            max_body=self.option("max_body"),
        )
        headers = {"Authorization": signature, "Content-Type": "application/json", "Accept": "application/json"}
        reply = send(self.name, "POST", url, headers=headers, body=body, timeout=self.timeout)
        raise_for_status(self.name, f"{self.option('action')} by {kind}", reply, wait=RATE_LIMIT_WAIT)

    def problems(self) -> list[Problem]:
        problems = super().problems()
        host = self.options.get("host")
        if isinstance(host, str) and "/" in host:
            msg = f"{SETTING}['host'] of akamai must be a host name (no scheme or path), not {host!r}."
            problems.append(Problem("httpcache.E042", msg))
        return problems
