from django.db.models import Count, Max, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from django_httpcache import cache_policy, conditional

from .models import Product


def _catalog_version(request):
    """One aggregate query, shared by the two validator callables of a request."""
    if not hasattr(request, "_catalog_version"):
        request._catalog_version = Product.objects.aggregate(
            count=Count("id"), newest=Max("updated_at"), versions=Sum("version")
        )
    return request._catalog_version


def _product_version(request, pk):
    if not hasattr(request, "_product_version"):
        request._product_version = Product.objects.filter(pk=pk).values("version", "updated_at").first()
    return request._product_version


@cache_policy("catalog")
@conditional(
    etag=lambda request: tuple(_catalog_version(request).values()),
    last_modified=lambda request: _catalog_version(request)["newest"],
)
def product_list(request):
    products = Product.objects.select_related("category")
    return render(request, "catalog/product_list.html", {"products": products})


@cache_policy("catalog")
@conditional(
    etag=lambda request, pk: (_product_version(request, pk) or {}).get("version"),
    last_modified=lambda request, pk: (_product_version(request, pk) or {}).get("updated_at"),
)
def product_detail(request, pk):
    product = get_object_or_404(Product.objects.select_related("category"), pk=pk)
    return render(request, "catalog/product_detail.html", {"product": product})


def health(request):
    return HttpResponse("ok\n", content_type="text/plain")
