"""Django's ``tests/conditional_processing/urls.py`` (5.2.19), async views. BSD-3-Clause:
Copyright (c) Django Software Foundation and individual contributors."""

from django.urls import path

from .views import views_for

views = views_for("async")

urlpatterns = [
    path("condition/", views["index"]),
    path("condition/last_modified/", views["last_modified_view1"]),
    path("condition/last_modified2/", views["last_modified_view2"]),
    path("condition/etag/", views["etag_view1"]),
    path("condition/etag2/", views["etag_view2"]),
    path("condition/unquoted_etag/", views["etag_view_unquoted"]),
    path("condition/weak_etag/", views["etag_view_weak"]),
    path("condition/no_etag/", views["etag_view_none"]),
]
