from __future__ import annotations

from django.apps import AppConfig


class HttpCacheConfig(AppConfig):
    name = "django_httpcache"
    verbose_name = "HTTP cache"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .cdn.purge import ready as cdn_ready
        from .dependencies import connect_observer
        from .versions import connect_signals

        connect_signals()
        connect_observer()
        cdn_ready()
