"""The catalog's HTML pages.

No dependencies are declared: the pages show each product's category name and tag
names, and the app observes the related models (Category, Tag) a view's queries read,
so renaming a category or a tag changes these pages' validators too.
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render

from django_httpcache import cache_policy, conditional

from .models import Product


@cache_policy("catalog")
@conditional(queryset=Product.objects.all())
def product_list(request):
    products = Product.objects.select_related("category").prefetch_related("tags")
    return render(request, "catalog/product_list.html", {"products": products})


@cache_policy("catalog")
@conditional(instance=lambda request, pk: Product.objects.filter(pk=pk).first())
def product_detail(request, pk):
    product = get_object_or_404(Product.objects.select_related("category").prefetch_related("tags"), pk=pk)
    return render(request, "catalog/product_detail.html", {"product": product})


def health(request):
    return HttpResponse("ok\n", content_type="text/plain")
