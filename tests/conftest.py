from __future__ import annotations

import pytest

from django_httpcache import dependencies
from django_httpcache.conf import conf
from tests.cdn_backend import recording  # noqa: F401  (the CDN tests' fixture)
from tests.testapp import views


@pytest.fixture(autouse=True)
def _fresh_state():
    views.reset()
    conf.reset()
    dependencies.forget()  # what views were seen to read, learned per process
    yield
    views.reset()


@pytest.fixture
def calls():
    return views.CALLS


@pytest.fixture
def state():
    return views.STATE


@pytest.fixture(params=["aggregate", "counter"])
def mode(request, settings):
    """Run a test in both version modes (counter mode on a LocMem store, allowed in DEBUG)."""
    from django.core.cache import caches

    from django_httpcache import versions

    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_MODE": request.param}
    if request.param == "counter":
        settings.CACHES = {
            **settings.CACHES,
            "versions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "versions"},
        }
        settings.DEBUG = True
        settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_CACHE": "versions"}
        caches["versions"].clear()
    versions.reset_stores()
    yield request.param
    versions.reset_stores()
