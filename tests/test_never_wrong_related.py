"""Issue 10, items 1 and 6: related data a view shows, without declared dependencies."""

from __future__ import annotations

import pytest

from tests.shapes import api
from tests.shapes.client import JSON, assert_new_body, revalidate, warm
from tests.shapes.models import Author, Book, Label

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def book():
    book = Book.objects.create(title="Dune", author=Author.objects.create(name="Ann"))
    book.labels.add(Label.objects.create(name="red"))
    return book


@pytest.fixture(autouse=True)
def _no_hooks():
    api.AFTER_FETCH.clear()
    yield
    api.AFTER_FETCH.clear()


def rename(obj, name: str) -> None:
    obj.name = name
    obj.save()


def url_for(base: str, target: str, book: Book) -> str:
    return f"/shapes/{base}/{book.pk}/" if target == "detail" else f"/shapes/{base}/"


def check_rename(client, url: str, obj, headers=JSON) -> None:
    first = warm(client, url, **headers)
    rename(obj, "Renamed")
    assert_new_body(first, revalidate(client, url, first["ETag"], **headers), "Renamed")


# -- item 1 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["detail", "list"])
def test_item01_serializer_dotted_source_rename_is_not_304(client, mode, book, target):
    check_rename(client, url_for("dotted-books", target, book), book.author)


@pytest.mark.parametrize("target", ["detail", "list"])
def test_item01_nested_serializer_rename_is_not_304(client, mode, book, target):
    check_rename(client, url_for("nested-books", target, book), book.author)


@pytest.mark.parametrize("target", ["detail", "list"])
def test_item01_method_field_label_rename_is_not_304(client, mode, book, target):
    check_rename(client, url_for("method-books", target, book), book.labels.get())


@pytest.mark.parametrize("base", ["book-page", "async-book-page", "book-list-page", "async-book-list-page"])
def test_item01_template_related_rename_is_not_304(client, mode, book, base):
    url = f"/shapes/{base}/{book.pk}/" if "list" not in base else f"/shapes/{base}/"
    check_rename(client, url, book.author, headers={})


# -- item 6 ---------------------------------------------------------------------------------


def test_item06_write_between_row_and_versions_is_not_served_under_new_tag(client, mode, book):
    url = f"/shapes/racy-books/{book.pk}/"
    warm(client, url, **JSON)
    api.AFTER_FETCH.append(lambda: rename(Author.objects.get(pk=book.author_id), "Bea"))
    served = client.get(url, headers=JSON)
    assert served.json()["author"] == "Ann"  # the row and its author were read before the rename
    later = revalidate(client, url, served.get("ETag", '"none"'), **JSON)
    # A 304 here would confirm the body with "Ann" as current: the tag went out with old data.
    assert later.status_code == 200
    assert later.json()["author"] == "Bea"
