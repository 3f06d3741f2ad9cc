"""AWS Signature Version 4 request signing, from AWS's documented algorithm.

Canonical request (method, URI, sorted query, sorted lower-cased headers, signed header
names, hex SHA-256 of the payload) → string to sign (algorithm, date, credential scope,
hash of the canonical request) → HMAC chain date/region/service/"aws4_request" → signature.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, urlsplit

__all__ = ["amz_date", "sign", "signing_key"]

ALGORITHM = "AWS4-HMAC-SHA256"


def amz_date(now: float | None = None) -> str:
    """ISO 8601 basic format in UTC, e.g. ``20150830T123600Z``."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    """The derived key for one day, region and service."""
    key = _hmac(f"AWS4{secret_key}".encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def _uri_encode(value: str, safe: str = "") -> str:
    return quote(value, safe="-_.~" + safe)


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes = b"",
    *,
    access_key: str,
    secret_key: str,
    region: str,
    service: str,
    session_token: str | None = None,
    when: str | None = None,
) -> dict[str, str]:
    """``headers`` plus Host, X-Amz-Date, X-Amz-Security-Token (if any) and Authorization."""
    parts = urlsplit(url)
    when = when or amz_date()
    signed = {**headers, "Host": parts.netloc, "X-Amz-Date": when}
    if session_token:
        signed["X-Amz-Security-Token"] = session_token
    canonical_headers = {name.lower(): " ".join(str(value).split()) for name, value in signed.items()}
    names = sorted(canonical_headers)
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    canonical = "\n".join(
        [
            method.upper(),
            # Services other than S3 sign each path segment encoded twice; the URL holds it once.
            _uri_encode(parts.path or "/", safe="/"),
            "&".join(f"{_uri_encode(k)}={_uri_encode(v)}" for k, v in query),
            "".join(f"{name}:{canonical_headers[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{when[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, when, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    signature = hmac.new(signing_key(secret_key, when[:8], region, service), to_sign.encode(), hashlib.sha256)
    signed["Authorization"] = (
        f"{ALGORITHM} Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, "
        f"Signature={signature.hexdigest()}"
    )
    return signed
