"""Function views over the shapes. They declare no dependencies: the app must find them."""

from __future__ import annotations

import json

from asgiref.sync import sync_to_async
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils.cache import patch_vary_headers

from django_httpcache import cache_policy, conditional

from .models import Book, Counted, Label, Place, Stamped


def _book(request, pk):
    return Book.objects.filter(pk=pk).first()


def _counted(request, pk):
    return Counted.objects.filter(pk=pk).first()


def _render_book(pk) -> str:
    # A 404 once the book is gone: the decorator runs the view when there is no current
    # representation (R01), and the stateful test revalidates deleted books.
    return render_to_string("shapes/book.html", {"book": get_object_or_404(Book, pk=pk)})


def _render_books() -> str:
    return render_to_string("shapes/books.html", {"books": Book.objects.all()})


def _label_names() -> str:
    return ",".join(Label.objects.values_list("name", flat=True))


# -- templates showing related data (item 1) ---------------------------------------------


@cache_policy("catalog")
@conditional(instance=_book)
def book_page(request, pk):
    return HttpResponse(_render_book(pk))


@cache_policy("catalog")
@conditional(instance=_book)
async def async_book_page(request, pk):
    return HttpResponse(await sync_to_async(_render_book)(pk))


@cache_policy("catalog")
@conditional(queryset=Book.objects.all())
def book_list_page(request):
    return HttpResponse(_render_books())


@cache_policy("catalog")
@conditional(queryset=Book.objects.all())
async def async_book_list_page(request):
    return HttpResponse(await sync_to_async(_render_books)())


# -- multi-table inheritance (item 5) ------------------------------------------------------


def _place_names() -> str:
    return ",".join(Place.objects.values_list("name", flat=True))


@cache_policy("catalog")
@conditional(queryset=Place.objects.all())
def place_list(request):
    return HttpResponse(_place_names())


@cache_policy("catalog")
@conditional(queryset=Place.objects.all())
async def async_place_list(request):
    return HttpResponse(await sync_to_async(_place_names)())


# -- a raw Set-Cookie header (item 11) -------------------------------------------------------


@cache_policy("catalog")
def raw_cookie(request):
    response = HttpResponse("hello")
    response.headers["Set-Cookie"] = "a=b; Path=/"
    return response


@cache_policy("catalog")
async def async_raw_cookie(request):
    response = HttpResponse("hello")
    response.headers["Set-Cookie"] = "a=b; Path=/"
    return response


# -- what the 304 repeats (item 14) ------------------------------------------------------------


@cache_policy("catalog")
@conditional(queryset=Label.objects.all())
def labels_vary_accept(request):
    response = HttpResponse(_label_names())
    patch_vary_headers(response, ["Accept"])
    return response


@cache_policy("catalog")
@conditional(queryset=Label.objects.all())
async def async_labels_vary_accept(request):
    response = HttpResponse(await sync_to_async(_label_names)())
    patch_vary_headers(response, ["Accept"])
    return response


@cache_policy("catalog")
@conditional(queryset=Label.objects.all())
def labels_session(request):
    visits = request.session.get("visits", 0)
    return HttpResponse(f"{_label_names()} ({visits})")


@cache_policy("catalog")
@conditional(queryset=Label.objects.all())
async def async_labels_session(request):
    visits = await request.session.aget("visits", 0)
    return HttpResponse(f"{await sync_to_async(_label_names)()} ({visits})")


def _negotiated(request) -> HttpResponse:
    if "application/json" in request.headers.get("Accept", ""):
        response: HttpResponse = JsonResponse({"greeting": "hello"})
    else:
        response = HttpResponse("<p>hello</p>", content_type="text/html")
    patch_vary_headers(response, ["Accept"])
    return response


@cache_policy("catalog")
@conditional(etag=lambda request: "v1")
def negotiated(request):
    return _negotiated(request)


@cache_policy("catalog")
@conditional(etag=lambda request: "v1")
async def async_negotiated(request):
    return _negotiated(request)


# -- an updated_at that save() does not move (item 4) --------------------------------------


@cache_policy("catalog")
@conditional(instance=lambda request, pk: Stamped.objects.filter(pk=pk).first())
def stamped_page(request, pk):
    return HttpResponse(Stamped.objects.get(pk=pk).name)


# -- writes and If-None-Match: * (item 15) -----------------------------------------------------


@cache_policy("catalog")
@conditional(instance=_counted, require_if_match=True)
def counted_page(request, pk):
    counted = Counted.objects.get(pk=pk)
    if request.method == "PUT":
        counted.name = json.loads(request.body)["name"]
        counted.save()
    return HttpResponse(counted.name)


@cache_policy("catalog")
@conditional(queryset=Label.objects.all())
def label_list_page(request):
    return HttpResponse(_label_names())
