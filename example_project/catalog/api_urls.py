from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("products", api.ProductViewSet, basename="product")

app_name = "api"
urlpatterns = [
    path("categories/", api.CategoryList.as_view(), name="category-list"),
    path("tags/", api.TagList.as_view(), name="tag-list"),
    path("me/", api.MeView.as_view(), name="me"),
    path("ping/", api.PingView.as_view(), name="ping"),
    *router.urls,
]
