"""Django's ``tests/middleware/cond_get_urls.py`` (5.2.19). BSD-3-Clause:
Copyright (c) Django Software Foundation and individual contributors."""

from django.http import HttpResponse
from django.urls import path

urlpatterns = [
    path("", lambda request: HttpResponse("root is here")),
]
