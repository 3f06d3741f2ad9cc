"""Akamai EdgeGrid request signing (EG1-HMAC-SHA256), from Akamai's published algorithm.

The Authorization header is ``EG1-HMAC-SHA256 client_token=..;access_token=..;timestamp=..;
nonce=..;signature=..``. The signature is base64 HMAC-SHA256, keyed by the base64 HMAC-SHA256
of the timestamp under the client secret, over the tab-joined method, scheme, host, path with
query, canonical signed headers, content hash (POST bodies only, first ``max_body`` bytes) and
the header so far.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

__all__ = ["authorization", "timestamp"]

ALGORITHM = "EG1-HMAC-SHA256"


def timestamp(now: float | None = None) -> str:
    """EdgeGrid's UTC timestamp format, e.g. ``20140321T19:34:21+0000``."""
    return time.strftime("%Y%m%dT%H:%M:%S+0000", time.gmtime(now))


def _hmac64(key: bytes, message: str) -> str:
    return base64.b64encode(hmac.new(key, message.encode(), hashlib.sha256).digest()).decode()


def _canonical_headers(headers: Mapping[str, str], names: Sequence[str]) -> str:
    present = {name.lower(): value for name, value in headers.items()}
    lines = []
    for name in names:
        value = present.get(name.lower())
        if value is not None:
            lines.append(f"{name.lower()}:{' '.join(value.split())}")  # runs of whitespace -> one space
    return "\t".join(lines)


def authorization(
    method: str,
    url: str,
    *,
    body: bytes = b"",
    client_token: str,
    client_secret: str,
    access_token: str,
    headers: Mapping[str, str] | None = None,
    headers_to_sign: Sequence[str] = (),
    max_body: int = 131072,
    when: str | None = None,
    nonce: str | None = None,
) -> str:
    """The Authorization header value for one request."""
    parts = urlsplit(url)
    when = when or timestamp()
    nonce = nonce or str(uuid.uuid4())
    unsigned = f"{ALGORITHM} client_token={client_token};access_token={access_token};timestamp={when};nonce={nonce};"
    content_hash = ""
    if method.upper() == "POST" and body:
        content_hash = base64.b64encode(hashlib.sha256(body[:max_body]).digest()).decode()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    data = "\t".join(
        [
            method.upper(),
            parts.scheme.lower(),
            parts.netloc.lower(),
            path,
            _canonical_headers(headers or {}, headers_to_sign),
            content_hash,
            unsigned,
        ]
    )
    signing_key = _hmac64(client_secret.encode(), when)
    return f"{unsigned}signature={_hmac64(signing_key.encode(), data)}"
