"""Issue 10, items 10, 11, 14 and 15: what a conditional response must still say."""

from __future__ import annotations

import pytest

from tests.shapes.client import JSON, revalidate, vary, warm
from tests.shapes.models import Author, Book, Counted, Label

pytestmark = pytest.mark.django_db


# -- item 10 ------------------------------------------------------------------------------------


def test_item10_permission_check_after_get_object_is_403_not_304(client):
    book = Book.objects.create(title="Dune", author=Author.objects.create(name="Ann"))
    url = f"/shapes/revoked-books/{book.pk}/"
    first = warm(client, url, **JSON)
    assert client.get(url, headers={**JSON, "x-revoked": "1"}).status_code == 403
    assert revalidate(client, url, first["ETag"], **JSON, **{"x-revoked": "1"}).status_code == 403


# -- item 11 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/shapes/raw-cookie/", "/shapes/async-raw-cookie/"])
def test_item11_raw_set_cookie_header_is_private(client, url):
    response = client.get(url)
    assert response["Set-Cookie"] == "a=b; Path=/"
    cache_control = response["Cache-Control"]
    assert "private" in cache_control
    assert "public" not in cache_control
    assert "s-maxage" not in cache_control


# -- item 14 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/shapes/labels-vary-accept/",
        "/shapes/async-labels-vary-accept/",
        "/shapes/labels-session/",
        "/shapes/async-labels-session/",
    ],
)
def test_item14_short_circuit_304_has_the_vary_of_the_200(client, url):
    Label.objects.create(name="red")
    first = warm(client, url)
    short = revalidate(client, url, first["ETag"])
    assert short.status_code == 304
    assert vary(short) == vary(first)


@pytest.mark.parametrize("url", ["/shapes/negotiated/", "/shapes/async-negotiated/"])
def test_item14_negotiated_representations_have_different_etags(client, url):
    as_json = warm(client, url, accept="application/json")
    as_html = warm(client, url, accept="text/html")
    assert as_json["Content-Type"] != as_html["Content-Type"]
    assert as_json["ETag"] != as_html["ETag"]
    crossed = revalidate(client, url, as_json["ETag"], accept="text/html")
    assert crossed.status_code == 200
    assert crossed["Content-Type"].startswith("text/html")


# -- item 15 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("base", ["counted-page", "strict-counted"])
def test_item15_put_if_none_match_star_on_existing_row_is_412(client, base):
    counted = Counted.objects.create(code="c", name="first")
    response = client.put(
        f"/shapes/{base}/{counted.pk}/",
        {"code": "c", "name": "second"},
        content_type="application/json",
        headers={**JSON, "if-none-match": "*"},
    )
    assert response.status_code == 412
    assert Counted.objects.get(pk=counted.pk).name == "first"


@pytest.mark.parametrize("url", ["/shapes/counted/", "/shapes/label-list-page/"])
def test_item15_list_get_if_none_match_star_is_304(client, url):
    Counted.objects.create(code="c", name="first")
    Label.objects.create(name="red")
    assert client.get(url, headers={**JSON, "if-none-match": "*"}).status_code == 304
