"""The views of Django's ``tests/conditional_processing/views.py``, with ``@conditional``.

Adapted from Django 5.2.19 (stable/5.2.x), ``tests/conditional_processing/views.py``.
Copyright (c) Django Software Foundation and individual contributors.
All rights reserved. BSD-3-Clause; see ``tests/peers/django/__init__.py``.

Each Django view exists in three forms, one URLconf each (``urls_sync``, ``urls_async``,
``urls_cbv``): a sync function view, an async function view (with ``async def``
callables, so they are awaited directly), and a class-based view whose ``get`` and
``put`` methods carry the decorator. Django's ``@etag`` and ``@last_modified`` have no
counterpart here; ``etag_view2`` and ``last_modified_view2`` use ``@conditional`` with
one callable, like ``etag_view1`` and ``last_modified_view1``.
"""

from __future__ import annotations

from datetime import datetime

from django.http import HttpResponse
from django.views import View

from django_httpcache.decorators import conditional

FULL_RESPONSE = "Test conditional get response"
LAST_MODIFIED = datetime(2007, 10, 21, 23, 21, 47)  # naive: read as UTC, as Django does
ETAG = '"b4246ffc4f62314ca13147c9d4f76974"'
WEAK_ETAG = 'W/"b4246ffc4f62314ca13147c9d4f76974"'

# Django's views, by name: the keyword arguments of their decorator.
VALIDATORS = {
    "index": {"etag": ETAG, "last_modified": LAST_MODIFIED},
    "last_modified_view1": {"last_modified": LAST_MODIFIED},
    "last_modified_view2": {"last_modified": LAST_MODIFIED},  # Django: @last_modified
    "etag_view1": {"etag": ETAG},
    "etag_view2": {"etag": ETAG},  # Django: @etag
    "etag_view_unquoted": {"etag": ETAG.strip('"')},  # an etag_func() returning an unquoted ETag
    "etag_view_weak": {"etag": WEAK_ETAG},  # an etag_func() returning a weak ETag
    "etag_view_none": {"etag": None},  # an etag_func() returning None (etag_func=None is a TypeError here)
}


def _sync_callables(values):
    return {key: (lambda request, value=value: value) for key, value in values.items()}


def _async_callables(values):
    def make(value):
        async def func(request):
            return value

        return func

    return {key: make(value) for key, value in values.items()}


def sync_view(values):
    @conditional(**_sync_callables(values))
    def view(request):
        return HttpResponse(FULL_RESPONSE)

    return view


def async_view(values):
    @conditional(**_async_callables(values))
    async def view(request):
        return HttpResponse(FULL_RESPONSE)

    return view


def class_based_view(values):
    callables = _sync_callables(values)

    class ConditionView(View):
        @conditional(**callables)
        def get(self, request):
            return HttpResponse(FULL_RESPONSE)

        @conditional(**callables)
        def put(self, request):
            return HttpResponse(FULL_RESPONSE)

    return ConditionView.as_view()


FORMS = {"sync": sync_view, "async": async_view, "cbv": class_based_view}


def views_for(form: str) -> dict:
    return {name: FORMS[form](values) for name, values in VALIDATORS.items()}


def urlpatterns_for(form: str) -> list:
    """Django's ``tests/conditional_processing/urls.py`` for one form of the views."""
    from django.urls import path

    views = views_for(form)
    return [
        path("condition/", views["index"]),
        path("condition/last_modified/", views["last_modified_view1"]),
        path("condition/last_modified2/", views["last_modified_view2"]),
        path("condition/etag/", views["etag_view1"]),
        path("condition/etag2/", views["etag_view2"]),
        path("condition/unquoted_etag/", views["etag_view_unquoted"]),
        path("condition/weak_etag/", views["etag_view_weak"]),
        path("condition/no_etag/", views["etag_view_none"]),
    ]
