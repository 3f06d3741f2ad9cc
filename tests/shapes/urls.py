from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api, views

router = SimpleRouter()
router.register("dotted-books", api.DottedBooks, basename="dotted-book")
router.register("nested-books", api.NestedBooks, basename="nested-book")
router.register("method-books", api.MethodBooks, basename="method-book")
router.register("counted", api.CountedViewSet, basename="counted")
router.register("counted-with-labels", api.CountedWithLabels, basename="counted-with-labels")
router.register("strict-counted", api.StrictCounted, basename="strict-counted")
router.register("skus", api.SkuViewSet, basename="sku")

urlpatterns = [
    *router.urls,
    path("book-page/<int:pk>/", views.book_page),
    path("async-book-page/<int:pk>/", views.async_book_page),
    path("book-list-page/", views.book_list_page),
    path("async-book-list-page/", views.async_book_list_page),
    path("places/", views.place_list),
    path("async-places/", views.async_place_list),
    path("raw-cookie/", views.raw_cookie),
    path("async-raw-cookie/", views.async_raw_cookie),
    path("labels-vary-accept/", views.labels_vary_accept),
    path("async-labels-vary-accept/", views.async_labels_vary_accept),
    path("labels-session/", views.labels_session),
    path("async-labels-session/", views.async_labels_session),
    path("negotiated/", views.negotiated),
    path("async-negotiated/", views.async_negotiated),
    path("stamped-page/<int:pk>/", views.stamped_page),
    path("counted-page/<int:pk>/", views.counted_page),
    path("label-list-page/", views.label_list_page),
    path("racy-books/<int:pk>/", api.RacyBook.as_view()),
    path("revoked-books/<int:pk>/", api.RevokedBook.as_view()),
    path("labels/none/", api.NoLabels.as_view()),
    path("labels/by-ids/", api.LabelsByIds.as_view()),
    path("sku-union/", api.SkuUnion.as_view()),
    path("labels/as-list/", api.LabelsAsList.as_view()),
]
