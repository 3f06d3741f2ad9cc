"""The example project in two languages: every URL answers per Accept-Language (English by
default, French for ``fr``) with Content-Language, Vary: Accept-Language and a tag of its
own, so a 304 is only ever given within one language."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

from catalog.models import Product
from example_project import settings as example

pytestmark = pytest.mark.django_db(transaction=True, reset_sequences=True)  # /products/1/ is pk 1

JSON = {"accept": "application/json"}
FR, EN = {"accept-language": "fr"}, {"accept-language": "en"}
# Everything public the example serves with validators (the HTML pages, the DRF views, the
# category list's body-hash tag).
CATALOG = ["/products/", "/products/1/", "/api/products/", "/api/products/1/", "/api/categories/", "/api/tags/"]


@pytest.fixture(autouse=True)
def example_i18n():
    """The example's URLs, middleware (LocaleMiddleware) and languages; the test thread's
    active language restored afterwards (LocaleMiddleware activates one per request)."""
    with (
        override_settings(
            ROOT_URLCONF="example_project.urls",
            HTTPCACHE=example.HTTPCACHE,
            MIDDLEWARE=example.MIDDLEWARE,
            USE_I18N=True,
            LANGUAGE_CODE=example.LANGUAGE_CODE,
            LANGUAGES=example.LANGUAGES,
        ),
        translation.override(None),
    ):
        # django.utils.translation picks its real or null functions by USE_I18N once, at
        # first use; the test settings have it off, so forget that choice (both ways).
        translation._trans.__dict__.clear()
        yield
    translation._trans.__dict__.clear()


@pytest.fixture
def seeded():
    call_command("seed_demo", products=5, stdout=io.StringIO())


def get(client, path, *headers: dict[str, str]):
    merged = {k: v for h in (JSON, *headers) for k, v in h.items()}
    return client.get(path, headers=merged)


def learned(client, path):
    """GET in both languages until the view has validators (the first 200 of a view may go
    out without one while the app learns what it reads)."""
    for _ in range(2):
        get(client, path, EN), get(client, path, FR)


@pytest.mark.parametrize("path", CATALOG)
def test_each_language_is_its_own_representation(client, seeded, path):
    learned(client, path)
    english, french = get(client, path, EN), get(client, path, FR)
    assert english.status_code == french.status_code == 200
    assert english["Content-Language"] == "en" and french["Content-Language"] == "fr"
    for response in (english, french):
        assert "Accept-Language" in [v.strip() for v in response["Vary"].split(",")], response.headers
    assert english["ETag"] != french["ETag"]


@pytest.mark.parametrize("path", CATALOG)
def test_304_only_within_one_language(client, seeded, path):
    learned(client, path)
    english, french = get(client, path, EN), get(client, path, FR)
    assert get(client, path, FR, {"if-none-match": french["ETag"]}).status_code == 304
    assert get(client, path, EN, {"if-none-match": english["ETag"]}).status_code == 304
    # The English copy revalidated in French: the French 200, never a 304.
    crossed = get(client, path, FR, {"if-none-match": english["ETag"]})
    assert crossed.status_code == 200 and crossed["Content-Language"] == "fr"
    assert crossed.content == french.content


@pytest.mark.parametrize("path", ["/health/", "/api/ping/", "/api/me/"])
def test_uncached_urls_say_their_language_too(client, seeded, path):
    client.login(username="demo", password="demo-password")
    for language in ("en", "fr"):
        response = get(client, path, {"accept-language": language})
        assert response.status_code == 200 and response["Content-Language"] == language
        assert "Accept-Language" in [v.strip() for v in response["Vary"].split(",")], response.headers


def test_html_and_api_speak_the_language(client, seeded):
    page = client.get("/products/1/", headers=FR).content.decode()
    assert "<h1>Produit 1</h1>" in page and "Catégorie :" in page and '<html lang="fr">' in page
    assert "Produits" in client.get("/products/", headers=FR).content.decode()
    product = get(client, "/api/products/1/", FR).json()
    assert product["name"] == "Produit 1" and product["description"].startswith("Produit de démonstration")
    assert product["name_fr"] == "Produit 1"


def test_english_is_the_default(client, seeded):
    for headers in ({}, {"accept-language": "de"}):
        response = get(client, "/api/products/1/", headers)
        assert response["Content-Language"] == "en" and response.json()["name"] == "Product 1"
    page = client.get("/products/1/").content.decode()
    assert "<h1>Product 1</h1>" in page and "Category:" in page and '<html lang="en">' in page


def test_blank_french_falls_back_to_english(client, seeded):
    Product.objects.filter(pk=1).update(name_fr="")
    assert get(client, "/api/products/1/", FR).json()["name"] == "Product 1"


def test_seed_translates_products_seeded_before_french_existed(client, seeded):
    learned(client, "/products/2/")
    french = get(client, "/products/2/", FR)
    Product._base_manager.filter(pk=2).update(name_fr="", description_fr="")  # an older demo database
    call_command("seed_demo", products=5, stdout=io.StringIO())
    assert Product.objects.get(pk=2).name_fr == "Produit 2"
    # Its version moved: the copy from before is not current any more.
    assert get(client, "/products/2/", FR, {"if-none-match": french["ETag"]}).status_code == 200
    call_command("seed_demo", products=5, stdout=io.StringIO())
    assert Product.objects.get(pk=2).version == Product.objects.get(pk=3).version + 1  # idempotent


def test_french_messages_are_compiled():
    """The committed .mo holds every msgid of the .po (run compilemessages after editing it)."""
    import gettext
    import re
    from pathlib import Path

    messages = Path(example.BASE_DIR) / "catalog" / "locale" / "fr" / "LC_MESSAGES"
    po = (messages / "django.po").read_text(encoding="utf-8")
    ids = re.findall(r'^msgid "(.+)"$', po, re.M)
    with (messages / "django.mo").open("rb") as mo:
        catalog = gettext.GNUTranslations(mo)
    assert ids and all(catalog.gettext(i) != i for i in ids)
