from __future__ import annotations

import pytest

from django_httpcache.conf import conf
from tests.testapp import views


@pytest.fixture(autouse=True)
def _fresh_state():
    views.reset()
    conf.reset()
    yield
    views.reset()


@pytest.fixture
def calls():
    return views.CALLS


@pytest.fixture
def state():
    return views.STATE
