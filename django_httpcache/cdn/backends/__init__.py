"""Purge backends by short name, and ``load_backend`` to build one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .base import PurgeBackend, PurgeError

__all__ = ["BACKENDS", "PurgeBackend", "PurgeError", "load_backend", "resolve"]

BACKENDS: dict[str, str] = {
    "fastly": "django_httpcache.cdn.backends.fastly.FastlyBackend",
    "cloudflare": "django_httpcache.cdn.backends.cloudflare.CloudflareBackend",
    "akamai": "django_httpcache.cdn.backends.akamai.AkamaiBackend",
    "cloudfront": "django_httpcache.cdn.backends.cloudfront.CloudFrontBackend",
    "purge": "django_httpcache.cdn.backends.purge.HTTPPurgeBackend",
    "varnish": "django_httpcache.cdn.backends.varnish.VarnishBackend",
}


def resolve(name_or_path: str) -> type[PurgeBackend]:
    """The backend class for a short name or a dotted path (ImproperlyConfigured if bad)."""
    path = BACKENDS.get(name_or_path, name_or_path)
    try:
        cls = import_string(path)
    except ImportError as exc:
        known = ", ".join(sorted(BACKENDS))
        raise ImproperlyConfigured(
            f'HTTPCACHE["CDN"]["BACKEND"] {name_or_path!r} cannot be imported ({exc}); '
            f"use one of {known} or a dotted path to a PurgeBackend subclass."
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, PurgeBackend)):
        raise ImproperlyConfigured(f'HTTPCACHE["CDN"]["BACKEND"] {name_or_path!r} is not a PurgeBackend subclass.')
    return cls


def load_backend(name_or_path: str, options: Mapping[str, Any]) -> PurgeBackend:
    """Build the backend named ``name_or_path`` with ``options``."""
    return resolve(name_or_path)(options)
