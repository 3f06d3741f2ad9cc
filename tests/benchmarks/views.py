"""The variants under test. Every DRF view has the floor's setup (no authentication,
AllowAny), so differences come from caching alone."""

from django.http import HttpResponse, HttpResponseNotModified
from rest_framework import pagination, permissions, viewsets
from rest_framework.views import APIView
from rest_framework_extensions.etag.mixins import APIListETAGMixin, APIRetrieveETAGMixin

from catalog.api import ProductSerializer
from catalog.models import Product
from django_httpcache.rest_framework import ConditionalMixin


class Lean:
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]


def django_floor(request):
    return HttpResponseNotModified()


class DRFFloor(Lean, APIView):
    def get(self, request):
        return HttpResponseNotModified()


class Pages(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 10_000


class PlainProducts(Lean, viewsets.ReadOnlyModelViewSet):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    pagination_class = Pages


class OurProducts(ConditionalMixin, PlainProducts):
    cache_policy = "catalog"


class DrfExtensionsProducts(APIListETAGMixin, APIRetrieveETAGMixin, PlainProducts):
    """drf-extensions' data-bearing key constructors (model values, not SQL text)."""


MEGABYTE = b"x" * (1 << 20)


def one_megabyte(request):
    return HttpResponse(MEGABYTE, content_type="application/octet-stream")
