"""The variants under test. Every DRF view has the floor's setup (no authentication,
AllowAny), so differences come from caching alone."""

from django.http import HttpResponse, HttpResponseNotModified
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_page
from rest_framework import pagination, permissions, viewsets
from rest_framework.views import APIView
from rest_framework_extensions.cache.decorators import cache_response
from rest_framework_extensions.etag.mixins import APIListETAGMixin, APIRetrieveETAGMixin
from rest_framework_extensions.key_constructor.bits import KwargsKeyBit, QueryParamsKeyBit
from rest_framework_extensions.key_constructor.constructors import DefaultKeyConstructor

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
    # As the example API: the serializer shows the category's name and the tag names.
    queryset = Product.objects.select_related("category").prefetch_related("tags")
    serializer_class = ProductSerializer
    pagination_class = Pages


class OurProducts(ConditionalMixin, PlainProducts):
    cache_policy = "catalog"


class DrfExtensionsProducts(APIListETAGMixin, APIRetrieveETAGMixin, PlainProducts):
    """drf-extensions' data-bearing key constructors (model values, not SQL text)."""


class StoredProducts(OurProducts):
    """Ours, with the response store (docs/response-store.md)."""

    response_store = True


class PageKey(DefaultKeyConstructor):
    """drf-extensions' default key and the query string (page_size), as a list needs."""

    query = QueryParamsKeyBit()
    kwargs = KwargsKeyBit()


class CacheResponseProducts(PlainProducts):
    """drf-extensions' ``cache_response``: keyed by the request, kept for a TTL."""

    @cache_response(timeout=600, key_func=PageKey())
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @cache_response(timeout=600, key_func=PageKey())
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


@method_decorator(cache_page(600), name="list")
@method_decorator(cache_page(600), name="retrieve")
class CachePageProducts(PlainProducts):
    """Django's ``cache_page``: keyed by the URL, kept for a TTL."""


MEGABYTE = b"x" * (1 << 20)


def one_megabyte(request):
    return HttpResponse(MEGABYTE, content_type="application/octet-stream")


HAND_KEYS = ("bench:catalog.product", "bench:catalog.category", "bench:catalog.tag")
HAND_TAG = '"1-1-1"'


def seed_hand_tokens():
    """The tokens the hand-written view reads (the tag it compares with is HAND_TAG)."""
    from django.core.cache import caches

    caches["versions"].set_many(dict.fromkeys(HAND_KEYS, 1), None)


class HandWrittenProducts(PlainProducts):
    """The least a list 304 from model versions costs in DRF, written by hand for this
    one view: the viewset's own hooks, one read of three tokens from the same version
    cache, one tag compared. No policy, no Vary, no variant, no middleware: a yardstick,
    not a product."""

    def paginate_queryset(self, queryset):
        from django.core.cache import caches

        tokens = caches["versions"].get_many(HAND_KEYS)
        etag = '"' + "-".join(str(tokens.get(key, 0)) for key in HAND_KEYS) + '"'
        if self.request.META.get("HTTP_IF_NONE_MATCH") == etag:
            raise _HandNotModified(etag)
        return super().paginate_queryset(queryset)

    def handle_exception(self, exc):
        if isinstance(exc, _HandNotModified):
            response = HttpResponseNotModified()
            response["ETag"] = exc.etag
            return response
        return super().handle_exception(exc)


class _HandNotModified(Exception):
    def __init__(self, etag):
        self.etag = etag
