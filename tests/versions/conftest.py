"""Fixtures of the versions tests: a counter store, and running on_commit callbacks."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from django_httpcache import versions
from tests.versions.helpers import COUNTER


@pytest.fixture
def counter(settings):
    settings.CACHES = {
        **settings.CACHES,
        "versions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "versions"},
    }
    settings.DEBUG = True  # a per-process store is only allowed in DEBUG (one process)
    settings.HTTPCACHE = {**settings.HTTPCACHE, **COUNTER}
    caches["versions"].clear()
    versions.reset_stores()
    yield versions.counter_store()
    versions.reset_stores()


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what the test's transaction would run when it commits, at the end of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)
