"""Helpers shared by the versions tests."""

from __future__ import annotations

from django_httpcache.models import ModelStamp

COUNTER = {
    "VERSION_MODE": "counter",
    "VERSION_CACHE": "versions",
}


def serial(model) -> int:
    stamp = ModelStamp.objects.filter(label=model._meta.label_lower).first()
    return stamp.serial if stamp else 0


def tokens(store, *models):
    return store.tokens([m._meta.label_lower for m in models])
