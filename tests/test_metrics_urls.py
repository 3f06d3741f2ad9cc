"""The test URLs plus the Prometheus view (tests/test_metrics.py)."""

from django.urls import path

from django_httpcache.metrics import prometheus_view
from tests.urls import urlpatterns as base

urlpatterns = [*base, path("metrics", prometheus_view)]
