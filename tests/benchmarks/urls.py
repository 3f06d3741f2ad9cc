from django.urls import path

from . import views


def products(prefix, viewset):
    return [
        path(f"{prefix}/products/", viewset.as_view({"get": "list"})),
        path(f"{prefix}/products/<int:pk>/", viewset.as_view({"get": "retrieve"})),
    ]


# Flat routes: every variant is resolved at about the same cost as the floors.
urlpatterns = [
    path("floor/django/", views.django_floor),
    path("floor/drf/", views.DRFFloor.as_view()),
    *products("ours", views.OurProducts),
    *products("plain", views.PlainProducts),
    *products("drfx", views.DrfExtensionsProducts),
    *products("stored", views.StoredProducts),
    *products("drfx-cached", views.CacheResponseProducts),
    *products("cache-page", views.CachePageProducts),
    *products("by-hand", views.HandWrittenProducts),
    path("megabyte/", views.one_megabyte),
]
