from django.urls import include, path

from catalog import views

urlpatterns = [
    path("", include("catalog.urls")),
    path("health/", views.health, name="health"),
]
