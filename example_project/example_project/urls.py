from django.urls import include, path

from catalog import views

urlpatterns = [
    path("", include("catalog.urls")),
    path("api/", include("catalog.api_urls")),
    path("health/", views.health, name="health"),
]
