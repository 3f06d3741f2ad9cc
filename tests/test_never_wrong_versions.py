"""Issue 10, items 2, 3, 4, 5, 7 and 9: changes that move no validator."""

from __future__ import annotations

import datetime
import time
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils.http import http_date, parse_http_date

from django_httpcache.models import ModelStamp
from tests.shapes.client import JSON, PAST, PAST_HTTP, assert_new_body, revalidate, warm
from tests.shapes.models import Author, Book, Counted, Label, Place, Restaurant, Sku, Stamped

pytestmark = pytest.mark.django_db(transaction=True)


# -- item 2: upserts --------------------------------------------------------------------------


def test_item02_bulk_create_upsert_is_not_304(client):
    sku = Sku.objects.create(code="A1", name="old")
    url = f"/shapes/skus/{sku.pk}/"
    first = warm(client, url, **JSON)
    Sku.objects.bulk_create(
        [Sku(code="A1", name="new")], update_conflicts=True, unique_fields=["code"], update_fields=["name"]
    )
    assert_new_body(first, revalidate(client, url, first["ETag"], **JSON), "new")


# -- item 3: a version field without updated_at -------------------------------------------------


def test_item03a_stale_copy_saved_after_another_is_not_304(client):
    Counted.objects.create(code="c", name="zero")
    copy_a, copy_b = Counted.objects.get(code="c"), Counted.objects.get(code="c")
    copy_a.name = "from A"
    copy_a.save()
    url = f"/shapes/counted/{copy_a.pk}/"
    first = warm(client, url, **JSON)
    copy_b.name = "from B"
    copy_b.save()  # writes the same version number as A did
    assert_new_body(first, revalidate(client, url, first["ETag"], **JSON), "from B")


def test_item03b_delete_and_recreate_same_pk_is_not_304(client):
    counted = Counted.objects.create(code="c", name="first")
    url = f"/shapes/counted/{counted.pk}/"
    first = warm(client, url, **JSON)
    pk = counted.pk
    counted.delete()
    Counted.objects.create(pk=pk, code="c", name="second")
    assert_new_body(first, revalidate(client, url, first["ETag"], **JSON), "second")


@pytest.fixture
def counted_with_labels():
    """A Counted row under a view declaring etag_dependencies=[Label]; stamps long settled."""
    Label.objects.create(name="red")
    counted = Counted.objects.create(code="c", name="first")
    ModelStamp.objects.update(changed_at=PAST)
    return counted, f"/shapes/counted-with-labels/{counted.pk}/"


def test_item03c_if_modified_since_after_row_change_is_not_304(client, counted_with_labels):
    counted, url = counted_with_labels
    first = warm(client, url, **JSON)
    Counted.objects.filter(pk=counted.pk).update(name="changed")
    later = revalidate(client, url, since=first.get("Last-Modified", PAST_HTTP), **JSON)
    assert_new_body(first, later, "changed")


def test_item03d_patch_with_stale_if_unmodified_since_is_412(client, counted_with_labels):
    counted, url = counted_with_labels
    first = warm(client, url, **JSON)
    Counted.objects.filter(pk=counted.pk).update(name="theirs")
    response = client.patch(
        url,
        {"name": "mine"},
        content_type="application/json",
        headers={**JSON, "if-unmodified-since": first.get("Last-Modified", PAST_HTTP)},
    )
    assert response.status_code == 412
    assert Counted.objects.get(pk=counted.pk).name == "theirs"


# -- item 4: updated_at without auto_now ---------------------------------------------------------


@pytest.fixture
def stamped():
    stamped = Stamped.objects.create(name="before", updated_at=PAST)
    return stamped, f"/shapes/stamped-page/{stamped.pk}/"


def test_item04_save_without_auto_now_etag_is_not_304(client, mode, stamped):
    obj, url = stamped
    first = warm(client, url)
    obj.name = "after"
    obj.save()
    assert_new_body(first, revalidate(client, url, first["ETag"]), "after")


def test_item04_save_without_auto_now_if_modified_since_is_not_304(client, mode, stamped):
    obj, url = stamped
    first = warm(client, url)
    obj.name = "after"
    obj.save()
    assert_new_body(first, revalidate(client, url, since=first.get("Last-Modified", PAST_HTTP)), "after")


# -- item 5: multi-table inheritance ---------------------------------------------------------------


def rename_by_save(restaurant):
    restaurant.name = "Chez Bea"
    restaurant.save()


def rename_by_update(restaurant):
    Restaurant.objects.filter(pk=restaurant.pk).update(name="Chez Bea")


@pytest.mark.parametrize("change", [rename_by_save, rename_by_update], ids=["save", "update"])
@pytest.mark.parametrize("url", ["/shapes/places/", "/shapes/async-places/"])
def test_item05_child_change_is_not_304_on_parent_list(client, mode, url, change):
    Place.objects.create(name="Park")
    restaurant = Restaurant.objects.create(name="Chez Ann", serves="soup")
    first = warm(client, url)
    change(restaurant)
    assert_new_body(first, revalidate(client, url, first["ETag"]), "Chez Bea")


# -- item 7: USE_TZ = False -----------------------------------------------------------------------

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def new_york(settings):
    settings.USE_TZ = False
    settings.TIME_ZONE = "America/New_York"


def test_item07_naive_last_modified_is_local_time(client, new_york):
    sku = Sku.objects.create(code="n", name="naive")
    moment = (datetime.datetime.now(NEW_YORK) - datetime.timedelta(hours=2)).replace(tzinfo=None)  # naive local
    Sku.objects.filter(pk=sku.pk).update(updated_at=moment)
    response = warm(client, f"/shapes/skus/{sku.pk}/", **JSON)
    expected = moment.replace(tzinfo=NEW_YORK).timestamp()
    assert abs(parse_http_date(response["Last-Modified"]) - expected) <= 1


def test_item07_same_second_change_if_modified_since_is_not_304(client, new_york):
    time.sleep(1 - time.time() % 1)  # the whole test within one second
    sku = Sku.objects.create(code="n", name="naive")
    url = f"/shapes/skus/{sku.pk}/"
    first = warm(client, url, **JSON)
    sku.name = "changed"
    sku.save()
    later = revalidate(client, url, since=first.get("Last-Modified", http_date()), **JSON)
    assert_new_body(first, later, "changed")


# -- item 9: an app's on_commit callback that raises ------------------------------------------------


def boom():
    raise RuntimeError("the app's own on_commit callback failed")


@pytest.mark.parametrize("mode", ["counter"], indirect=True)
def test_item09_raising_on_commit_callback_does_not_skip_recording(client, mode):
    book = Book.objects.create(title="Dune", author=Author.objects.create(name="Ann"))
    url = "/shapes/dotted-books/"
    first = warm(client, url, **JSON)
    with pytest.raises(RuntimeError), transaction.atomic():
        transaction.on_commit(boom)  # registered before the package's own callback
        book.title = "Emma"
        book.save()
    assert_new_body(first, revalidate(client, url, first["ETag"], **JSON), "Emma")
