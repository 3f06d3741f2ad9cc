"""The example project's contract: URLs, policies, seed data (as `make demo` serves them)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from catalog.models import Product
from example_project import settings as example

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("example_urls"),
]

CATALOG_HEADER = "public, max-age=60, s-maxage=600, stale-while-revalidate=30, stale-if-error=86400"


@pytest.fixture
def example_urls():
    with override_settings(ROOT_URLCONF="example_project.urls", HTTPCACHE=example.HTTPCACHE):
        yield


@pytest.fixture
def seeded():
    call_command("seed_demo", products=20, stdout=io.StringIO())


def test_seed_is_idempotent(seeded, django_user_model):
    before = list(Product.objects.values_list("id", "slug", "version", "updated_at"))
    call_command("seed_demo", products=20, stdout=io.StringIO())
    assert list(Product.objects.values_list("id", "slug", "version", "updated_at")) == before
    assert len(before) == 20 and before[0][0] == 1
    user = django_user_model.objects.get(username="demo")
    assert user.check_password("demo-password")


def test_seed_grows_to_n(seeded):
    call_command("seed_demo", products=25, stdout=io.StringIO())
    assert Product.objects.count() == 25


def test_product_list(client, seeded):
    response = client.get("/products/")
    assert response.status_code == 200
    assert response["Cache-Control"] == CATALOG_HEADER
    newest = max(Product.objects.values_list("updated_at", flat=True))
    from django.utils.http import http_date

    assert response["Last-Modified"] == http_date(int(newest.timestamp()))
    assert b"Product 20" in response.content
    again = client.get("/products/", headers={"if-none-match": response["ETag"]})
    assert again.status_code == 304 and again.content == b""
    assert again["Cache-Control"] == CATALOG_HEADER
    by_date = client.get("/products/", headers={"if-modified-since": response["Last-Modified"]})
    assert by_date.status_code == 304


def test_product_list_changes_after_save(client, seeded):
    etag = client.get("/products/")["ETag"]
    product = Product.objects.get(pk=3)
    product.price += 1
    product.save()
    assert client.get("/products/", headers={"if-none-match": etag}).status_code == 200


def test_product_detail(client, seeded):
    response = client.get("/products/1/")
    assert response.status_code == 200
    assert response["Cache-Control"] == CATALOG_HEADER
    assert "ETag" in response and "Last-Modified" in response
    again = client.get("/products/1/", headers={"if-none-match": response["ETag"]})
    assert again.status_code == 304 and again["Cache-Control"] == CATALOG_HEADER
    Product.objects.get(pk=1).save()  # version 2
    assert client.get("/products/1/", headers={"if-none-match": response["ETag"]}).status_code == 200


def test_product_detail_missing_is_404(client, seeded):
    assert client.get("/products/999/", headers={"if-none-match": "*"}).status_code == 404


def test_health_is_no_store(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "ETag" not in response


def test_example_settings_pass_the_checks():
    from django_httpcache.checks import check_settings

    with override_settings(HTTPCACHE=example.HTTPCACHE, MIDDLEWARE=example.MIDDLEWARE):
        from django_httpcache.checks import check_middleware

        assert check_settings() == [] and check_middleware() == []


def test_static_asset_is_fingerprinted_and_immutable(client):
    import hashlib
    import re
    from pathlib import Path

    page = client.get("/health/")  # no database needed for the asset itself
    assert page.status_code == 200
    root = Path(__file__).resolve().parents[1] / "example_project" / "catalog" / "static"
    (asset,) = root.glob("catalog/site.*.css")
    fingerprint = re.match(r"site\.([0-9a-f]{12})\.css", asset.name).group(1)
    assert hashlib.sha256(asset.read_bytes()).hexdigest()[:12] == fingerprint  # the name tells the truth
    response = client.get(f"/static/catalog/{asset.name}")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"


def test_pages_link_the_fingerprinted_asset(client, seeded):
    assert b'href="/static/catalog/site.' in client.get("/products/").content
