"""The debug-toolbar panel's data and template (django_httpcache.contrib.debug_toolbar);
tests/e2e/test_toolbar.py shows it in a real browser."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.http import HttpResponse
from django.template.loader import render_to_string

from catalog.models import Category, Product
from django_httpcache import trace
from django_httpcache.contrib.debug_toolbar import HttpCachePanel, collect

pytestmark = pytest.mark.django_db


@pytest.fixture
def product(settings):
    settings.DEBUG = True  # the toolbar's setting; reasons are kept in DEBUG only
    category = Category.objects.create(name="Tools", slug="tools")
    return Product.objects.create(name="Hammer", slug="hammer", price="9.50", category=category)


def test_panel_data_says_what_the_validators_were_made_of(client, product, django_capture_on_commit_callbacks):
    client.get(f"/products/{product.pk}/")
    before = client.get(f"/products/{product.pk}/")
    with django_capture_on_commit_callbacks(execute=True):
        product.name = "Sledgehammer"
        product.save()
    reply = client.get(f"/products/{product.pk}/", headers={"if-none-match": before["ETag"]})
    data = collect(reply.wsgi_request, reply)
    json.dumps(data)  # the toolbar stores it as JSON
    assert data["outcome"] == "full" and data["status"] == 200
    assert data["policy"] == "catalog" and data["policy_source"] == "the @cache_policy decorator"
    assert data["models"] and data["object"] == f"catalog.product pk={product.pk}"
    assert [part for part, _ in data["versions"]][-1] == f"catalog.product {product.pk} row version"
    assert "moved" in data["reason"] and f"catalog.product {product.pk} row version" in data["reason"]
    html = render_to_string(HttpCachePanel.template, data)
    assert 'id="httpcache-reason"' in html and "the @cache_policy decorator" in html


def test_panel_data_for_a_response_no_conditional_view_made(client, db):
    reply = client.get("/rules/by-name/")
    data = collect(reply.wsgi_request, reply)
    assert data["policy"] == "user" and data["policy_source"] == "HTTPCACHE['RULES'][1]"
    assert data["view"] == "(no conditional view)" and data["steps"] == [] and data["reason"] == ""


def test_the_panel_asks_for_the_precondition_steps(rf):
    seen = {}

    def get_response(request):
        seen["explaining"] = trace.explaining(request)
        return HttpResponse()

    HttpCachePanel(mock.Mock(), get_response).process_request(rf.get("/"))
    assert seen == {"explaining": True}


def test_our_server_timing_survives_the_toolbar_as_a_panel_entry(rf):
    panel = HttpCachePanel(mock.Mock(server_timing_stats={}), lambda request: HttpResponse())
    response = HttpResponse(headers={"Server-Timing": 'db;dur=3, httpcache;desc="304 etag counter";dur=0.09'})
    panel.generate_server_timing(rf.get("/"), response)
    assert panel.get_server_timing_stats() == {"decision": {"title": "304 etag counter", "value": "0.09"}}
