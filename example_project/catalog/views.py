from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from django_httpcache import cache_policy, conditional

from .models import Category, Product


@cache_policy("catalog")
@conditional(queryset=Product.objects.all(), dependencies=[Category])
def product_list(request):
    products = Product.objects.select_related("category")
    return render(request, "catalog/product_list.html", {"products": products})


@cache_policy("catalog")
@conditional(instance=lambda request, pk: Product.objects.filter(pk=pk).first(), dependencies=[Category])
def product_detail(request, pk):
    product = get_object_or_404(Product.objects.select_related("category"), pk=pk)
    return render(request, "catalog/product_detail.html", {"product": product})


def health(request):
    return HttpResponse("ok\n", content_type="text/plain")
