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

# The demo's URLs name products by pk from 1 (/products/1/). Sequences are rolled back with the
# test's transaction on SQLite but not on PostgreSQL: tests that rely on them reset them.
from_pk_1 = pytest.mark.django_db(transaction=True, reset_sequences=True)

CATALOG_HEADER = "public, max-age=60, s-maxage=600, stale-while-revalidate=30, stale-if-error=86400"


@pytest.fixture
def example_urls():
    with override_settings(ROOT_URLCONF="example_project.urls", HTTPCACHE=example.HTTPCACHE):
        yield


@pytest.fixture
def seeded():
    call_command("seed_demo", products=20, stdout=io.StringIO())


@from_pk_1
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


@from_pk_1
def test_product_list_changes_after_save(client, seeded):
    etag = client.get("/products/")["ETag"]
    product = Product.objects.get(pk=3)
    product.price += 1
    product.save()
    assert client.get("/products/", headers={"if-none-match": etag}).status_code == 200


@from_pk_1
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


# -- dependencies observed, not declared (issue 10) ------------------------------------
#
# The example declares no dependencies: product pages show the category's name and the
# tag names, and the app observes the related models a view's queries read. The first
# 200 of a view may go out without a model validator while the app learns what it reads;
# from the second GET on, every validator covers Category and Tag as well.

JSON = {"accept": "application/json"}
PRODUCT_URLS = ["/api/products/{pk}/", "/api/products/", "/products/{pk}/", "/products/"]


def first_product():
    return Product.objects.select_related("category").get(slug="product-00001")


def urls(templates, product):
    return [template.format(pk=product.pk) for template in templates]


def warm(client, url):
    """Two GETs (the first teaches the app what the view reads); the second's ETag, which
    a revalidation then confirms."""
    assert client.get(url, headers=JSON).status_code == 200
    second = client.get(url, headers=JSON)
    assert second.status_code == 200
    assert "ETag" in second, f"no ETag on {url} after warm-up"
    etag = second["ETag"]
    assert client.get(url, headers={**JSON, "if-none-match": etag}).status_code == 304, url
    return etag


def product_json(response, product):
    """The product in a detail or list response of the API."""
    data = response.json()
    if "results" not in data:
        return data
    (item,) = [item for item in data["results"] if item["id"] == product.pk]
    return item


def rename(instance, name, how):
    if how == "update":
        type(instance).objects.filter(pk=instance.pk).update(name=name)
    else:
        instance.name = name
        instance.save()


@pytest.mark.django_db(transaction=True)
def test_product_json_shows_category_name_and_tags(client, mode, seeded):
    product = first_product()
    tags = sorted(product.tags.values_list("name", flat=True))
    assert tags  # product 1 is seeded with a tag
    for url in urls(["/api/products/{pk}/", "/api/products/"], product):
        response = client.get(url, headers=JSON)
        assert response.status_code == 200
        item = product_json(response, product)
        assert item["category_name"] == product.category.name
        assert item["tags"] == tags


@pytest.mark.django_db(transaction=True)
def test_product_pages_show_category_name_and_tags(client, mode, seeded):
    product = first_product()
    tags = list(product.tags.values_list("name", flat=True))
    for url in urls(["/products/{pk}/", "/products/"], product):
        response = client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert product.category.name in body
        assert all(tag in body for tag in tags), (url, tags)


@pytest.mark.django_db(transaction=True)
def test_tag_list(client, mode, seeded):
    response = client.get("/api/tags/", headers=JSON)
    assert response.status_code == 200
    assert response["Cache-Control"] == CATALOG_HEADER
    assert [tag["name"] for tag in response.json()] == sorted(["new", "sale", "eco", "gift", "bestseller", "limited"])
    etag = warm(client, "/api/tags/")
    assert client.get("/api/tags/", headers={**JSON, "if-none-match": etag})["Cache-Control"] == CATALOG_HEADER


def test_seed_tags_products_deterministically(seeded):
    from catalog.management.commands.seed_demo import tag_slugs

    for product in Product.objects.prefetch_related("tags"):
        number = int(product.slug.rsplit("-", 1)[1])
        assert sorted(tag.slug for tag in product.tags.all()) == sorted(tag_slugs(number))
    assert {len(tag_slugs(n)) for n in range(1, 21)} == {0, 1, 2}


@pytest.mark.django_db(transaction=True)  # seed_demo bump()s here: let it commit for real
def test_seed_tags_a_catalog_seeded_before_tags(seeded):
    from catalog.models import Tag

    before = list(Product.objects.values_list("id", "version", "updated_at"))
    Product.tags.through._base_manager.all().delete()
    Tag._base_manager.all().delete()
    call_command("seed_demo", products=20, stdout=io.StringIO())
    assert Tag.objects.count() == 6
    assert Product.objects.get(slug="product-00001").tags.exists()
    assert list(Product.objects.values_list("id", "version", "updated_at")) == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["update", "save"])
def test_category_rename_changes_every_page_that_shows_it(client, mode, seeded, how):
    product = first_product()
    affected = urls(PRODUCT_URLS, product)
    etags = {url: warm(client, url) for url in [*affected, "/api/tags/"]}

    rename(product.category, "Vinyl Records", how)

    for url in affected:
        response = client.get(url, headers={**JSON, "if-none-match": etags[url]})
        assert response.status_code == 200, f"stale 304 on {url} after a category rename ({how})"
        if url.startswith("/api/"):
            assert product_json(response, product)["category_name"] == "Vinyl Records"
        else:
            assert "Vinyl Records" in response.content.decode()
    # Tags read no category: their validators stay.
    assert client.get("/api/tags/", headers={**JSON, "if-none-match": etags["/api/tags/"]}).status_code == 304


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["update", "save"])
def test_tag_rename_changes_every_page_that_shows_it(client, mode, seeded, how):
    product = first_product()
    tag = product.tags.order_by("name").first()
    affected = [*urls(PRODUCT_URLS, product), "/api/tags/"]
    etags = {url: warm(client, url) for url in [*affected, "/api/categories/"]}

    rename(tag, "clearance", how)

    for url in affected:
        response = client.get(url, headers={**JSON, "if-none-match": etags[url]})
        assert response.status_code == 200, f"stale 304 on {url} after a tag rename ({how})"
        if url == "/api/tags/":
            assert "clearance" in [item["name"] for item in response.json()]
        elif url.startswith("/api/"):
            assert "clearance" in product_json(response, product)["tags"]
        else:
            assert "clearance" in response.content.decode()
    # Categories read no tag: their validator stays.
    assert (
        client.get("/api/categories/", headers={**JSON, "if-none-match": etags["/api/categories/"]}).status_code == 304
    )
