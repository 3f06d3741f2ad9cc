"""Amazon CloudFront: CreateInvalidation by path (or by ``#tag``), signed with SigV4.

CloudFront has no surrogate keys unless the distribution opts in to cache tags
(``CacheTagConfig``): then set ``tag_header`` to the same header name and keys are purged as
``#key`` items. Without it, ``header`` is None (no tags on responses) and ``purge_keys``
needs ``key_paths``, a callable (or dotted path) mapping keys to paths, or raises
NotImplementedError.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

from django.utils.module_loading import import_string

from ...policy import Problem
from .base import SETTING, Option, PurgeBackend, PurgeError, chunks, is_text
from .sigv4 import sign
from .transport import raise_for_status, send

XMLNS = "http://cloudfront.amazonaws.com/doc/2020-05-31/"
# CloudFront answers these with a 400, yet they pass: the in-progress maximum (3,000 paths)
# or the API's throttle.
RETRYABLE_CODES = frozenset({"TooManyInvalidationsInProgress", "Throttling", "ThrottlingException"})
ENVIRONMENT = {
    "access_key_id": "AWS_ACCESS_KEY_ID",
    "secret_access_key": "AWS_SECRET_ACCESS_KEY",
    "session_token": "AWS_SESSION_TOKEN",
}


def _is_key_paths(value: Any) -> bool:
    return callable(value) or is_text(value)


class CloudFrontBackend(PurgeBackend):
    """CloudFront's documented limits, with cache tags: 50 tags of 256 characters, comma-separated."""

    name = "cloudfront"
    header = None
    separator = ","
    max_header_bytes = 16384
    max_tags = 50
    max_tag_bytes = 256
    # 1,000 items a batch keeps room under the 3,000 paths CloudFront allows in progress.
    max_keys_per_request = 1000
    strips_header = False

    options_spec = {
        **PurgeBackend.options_spec,
        "endpoint": PurgeBackend.options_spec["endpoint"]._replace(default="https://cloudfront.amazonaws.com"),
        "distribution_id": Option(is_text, "the distribution ID", required=True),
        "access_key_id": Option(is_text, "an AWS access key ID (else $AWS_ACCESS_KEY_ID)", secret=True),
        "secret_access_key": Option(is_text, "an AWS secret key (else $AWS_SECRET_ACCESS_KEY)", secret=True),
        "session_token": Option(is_text, "an AWS session token (else $AWS_SESSION_TOKEN)", secret=True),
        "region": Option(is_text, "the signing region", "us-east-1"),
        "tag_header": Option(is_text, "the distribution's CacheTagConfig HeaderName"),
        "key_paths": Option(_is_key_paths, "a callable (or dotted path) mapping keys to paths"),
    }

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        self.header = self.option("tag_header")
        self.strips_header = False  # CloudFront forwards the tag header to viewers

    def _credential(self, key: str) -> str | None:
        value: str | None = self.option(key) or os.environ.get(ENVIRONMENT[key]) or None
        return value

    def _key_paths(self) -> Callable[[Sequence[str]], Iterable[str]] | None:
        value = self.option("key_paths")
        if isinstance(value, str):
            try:
                value = import_string(value)
            except ImportError:
                return None
        return value if callable(value) else None

    def purge_keys(self, keys: Sequence[str]) -> None:
        if self.header:
            self._invalidate([f"#{key}" for key in keys])
            return
        mapping = self._key_paths()
        if mapping is None:
            raise NotImplementedError(
                f"cloudfront purges keys only with {SETTING}['tag_header'] (cache tags) or ['key_paths']."
            )
        for chunk in chunks(sorted(set(mapping(keys))), self.max_keys_per_request):
            self._invalidate(chunk)

    def purge_urls(self, urls: Sequence[str]) -> None:
        paths = []
        for url in urls:
            parts = urlsplit(url)
            paths.append((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        for chunk in chunks(paths, self.max_keys_per_request):
            self._invalidate(chunk)

    def _invalidate(self, items: Sequence[str]) -> None:
        (distribution,) = self.require("distribution_id")
        access_key, secret_key = self._credential("access_key_id"), self._credential("secret_access_key")
        if not (access_key and secret_key):
            raise PurgeError(f"cloudfront: no AWS credentials ({SETTING} or the environment).", permanent=True)
        url = self.api_url(f"/2020-05-31/distribution/{quote(distribution, safe='')}/invalidation")
        body = _batch(items)
        headers = sign(
            "POST",
            url,
            {"Content-Type": "text/xml"},
            body,
            access_key=access_key,
            secret_key=secret_key,
            session_token=self._credential("session_token"),
            region=self.option("region"),
            service="cloudfront",
        )
        del headers["Host"]  # urllib sends the same value itself
        reply = send(self.name, "POST", url, headers=headers, body=body, timeout=self.timeout)
        code = _error_code(reply.body) if reply.status >= 400 else None
        if code in RETRYABLE_CODES:
            raise PurgeError(f"cloudfront: invalidation answered {reply.status} {code}", retry_after=60.0)
        raise_for_status(self.name, f"invalidation ({code})" if code else "invalidation", reply)

    def problems(self) -> list[Problem]:
        problems = super().problems()
        for key in ("access_key_id", "secret_access_key"):
            if self.options.get(key) is None and not os.environ.get(ENVIRONMENT[key]):
                msg = f"{SETTING}[{key!r}] is required by cloudfront (or ${ENVIRONMENT[key]})."
                problems.append(Problem("httpcache.E041", msg))
        if self.options.get("key_paths") is not None and self._key_paths() is None:
            msg = f"{SETTING}['key_paths'] of cloudfront cannot be imported: {self.options['key_paths']!r}."
            problems.append(Problem("httpcache.E042", msg))
        if not self.header and "key_paths" not in self.options:
            msg = (
                f"cloudfront cannot purge surrogate keys: set {SETTING}['tag_header'] to the distribution's "
                "CacheTagConfig header, or ['key_paths'] to map keys to paths."
            )
            problems.append(Problem("httpcache.E044", msg))
        return problems


def _batch(items: Sequence[str]) -> bytes:
    """The InvalidationBatch XML, in the documented element order; a fresh CallerReference,
    since CloudFront treats a repeated one as the same invalidation."""
    root = ElementTree.Element("InvalidationBatch", xmlns=XMLNS)
    reference = f"django-httpcache-{time.time_ns()}-{uuid.uuid4().hex[:8]}"
    ElementTree.SubElement(root, "CallerReference").text = reference
    paths = ElementTree.SubElement(root, "Paths")
    listed = ElementTree.SubElement(paths, "Items")
    for item in items:
        ElementTree.SubElement(listed, "Path").text = item
    ElementTree.SubElement(paths, "Quantity").text = str(len(items))
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ElementTree.tostring(root, encoding="unicode").encode()


def _error_code(body: bytes) -> str | None:
    # The ErrorResponse's <Code>; a pattern, not a parser, for an answer we only read one word of.
    match = re.search(rb"<Code>([A-Za-z0-9.]+)</Code>", body)
    return match.group(1).decode() if match else None
