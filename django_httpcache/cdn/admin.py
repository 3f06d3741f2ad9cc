"""The admin action "Purge from the CDN", on the change lists of tracked models."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import messages
from django.db import models
from django.http import HttpRequest

from ..versions.registry import concrete, is_tracked, label
from . import cdn_settings, object_key
from .backends import PurgeError
from .purge import purge_now

__all__ = ["add_purge_action", "purge_from_cdn"]


def purge_from_cdn(modeladmin: Any, request: HttpRequest, queryset: models.QuerySet[Any]) -> None:
    """Purge the selected rows' object keys now; report the outcome to the user."""
    found = cdn_settings()
    if found is None:
        modeladmin.message_user(request, 'HTTPCACHE["CDN"] has no BACKEND: nothing purged.', messages.WARNING)
        return
    name = label(concrete(queryset.model))
    keys = [object_key(name, pk, found.prefix) for pk in queryset.values_list("pk", flat=True)]
    try:
        purge_now(keys, found.backend)
    except PurgeError as exc:
        modeladmin.message_user(request, f"Purge failed: {exc}", messages.ERROR)
        return
    modeladmin.message_user(request, f"Purged {len(keys)} object keys from {found.backend.name}.", messages.SUCCESS)


purge_from_cdn.short_description = "Purge from the CDN"  # type: ignore[attr-defined]
purge_from_cdn.allowed_permissions = ("change",)  # type: ignore[attr-defined]


def add_purge_action() -> None:
    """Add the action to the default admin site's tracked models (once admin is ready).

    Put ``django_httpcache`` after ``django.contrib.admin`` in INSTALLED_APPS so that the
    admin has registered its models; for another AdminSite call this with it.
    """
    if not apps.is_installed("django.contrib.admin"):
        return
    from django.contrib import admin

    for model, modeladmin in admin.site._registry.items():
        actions = list(modeladmin.actions or ())
        if is_tracked(model) and purge_from_cdn not in actions:
            modeladmin.actions = [*actions, purge_from_cdn]
