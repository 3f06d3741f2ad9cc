from pathlib import Path

from django.urls import include, path
from django.views.static import serve

from catalog import views

STATIC = Path(__file__).resolve().parent.parent / "catalog" / "static"

urlpatterns = [
    path("", include("catalog.urls")),
    path("api/", include("catalog.api_urls")),
    path("health/", views.health, name="health"),
    # Fingerprinted assets (the name carries a hash of the content), served here even
    # with DEBUG off so the demo is self-contained; policy "static" by the /static/ rule.
    path("static/<path:path>", serve, {"document_root": STATIC}),
]
