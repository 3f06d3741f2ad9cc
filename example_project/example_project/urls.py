from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles.views import serve as serve_staticfiles
from django.urls import include, path, re_path
from django.views.static import serve

from catalog import views
from django_httpcache.metrics import prometheus_view

STATIC = Path(__file__).resolve().parent.parent / "catalog" / "static"

urlpatterns = [
    path("", include("catalog.urls")),
    path("api/", include("catalog.api_urls")),
    path("health/", views.health, name="health"),
    # Fingerprinted assets (the name carries a hash of the content), served here even
    # with DEBUG off so the demo is self-contained; policy "static" by the /static/ rule.
    path("static/<path:path>", serve, {"document_root": STATIC}),
    # Prometheus scrapes here; HTTPCACHE['METRICS_ALLOW'] keeps it to loopback.
    path("metrics", prometheus_view, name="metrics"),
]
if "debug_toolbar" in settings.INSTALLED_APPS:  # DJANGO_DEBUG=1 (settings.TOOLBAR)
    urlpatterns[:0] = [
        re_path(r"^static/(?P<path>debug_toolbar/.*)$", serve_staticfiles),
        path("__debug__/", include("debug_toolbar.urls")),
    ]
