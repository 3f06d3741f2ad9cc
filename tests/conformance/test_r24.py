"""R24, the library's own promise: after any change, old validators give no 304."""

from __future__ import annotations

import pytest
from django.db import transaction

from django_httpcache import versions
from tests.factories import ArticleFactory, TagFactory
from tests.testapp.models import Article, Tag

from .conftest import ALL, WITH_LAST_MODIFIED, surfaces


@surfaces(*ALL)
def test_r24_old_tag_after_a_change(http, surface):
    first = http(surface)
    assert http(surface, if_none_match=first["ETag"]).status_code == 304
    surface.change()
    assert http(surface, if_none_match=first["ETag"]).status_code == 200


@surfaces(*WITH_LAST_MODIFIED)
def test_r24_old_date_after_a_change(http, surface):
    first = http(surface)
    assert http(surface, if_modified_since=first["Last-Modified"]).status_code == 304
    surface.change()
    assert http(surface, if_modified_since=first["Last-Modified"]).status_code == 200


CHANGES = {
    "save": lambda a, t: Article.objects.get(pk=a.pk).save(),
    "delete": lambda a, t: Article.objects.filter(pk=a.pk).delete(),
    "queryset update": lambda a, t: Article.objects.filter(pk=a.pk).update(body="x"),
    "bulk_create": lambda a, t: Article.objects.bulk_create([Article(title="n")]),
    "bulk_update": lambda a, t: Article.objects.bulk_update([a], ["title"]),
    "m2m add": lambda a, t: a.tags.add(t),
    "m2m clear": lambda a, t: a.tags.clear(),
    "related rename": lambda a, t: Tag.objects.filter(name="red").update(name="maroon"),
    "raw SQL + bump": lambda a, t: _raw(a),
}


def _raw(article):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("UPDATE testapp_article SET body = 'raw' WHERE id = %s", [article.pk])
    versions.bump(article)


@pytest.mark.django_db
@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("target", ["list", "filtered", "detail"])
def test_r24_model_changes_in_both_modes(client, mode, django_capture_on_commit_callbacks, change, target):
    article = ArticleFactory(tags=[TagFactory(name="red")])
    ArticleFactory()
    url = {"list": "/api/articles/", "filtered": "/api/articles/?tag=red"}.get(target, f"/api/articles/{article.pk}/")
    first = client.get(url, headers={"accept": "application/json"})
    with django_capture_on_commit_callbacks(execute=True):
        CHANGES[change](article, TagFactory(name="new"))
    again = client.get(url, headers={"accept": "application/json", "if-none-match": first["ETag"]})
    current = client.get(url, headers={"accept": "application/json"})
    shows = current.content != first.content
    if shows:
        assert again.status_code != 304, "stale 304"
    assert shows or (change, target) in UNSEEN, "the change should show in this representation"


# (change, target) pairs whose representation does not show the change.
UNSEEN = {
    ("bulk_create", "detail"),  # another row
    ("bulk_create", "filtered"),  # a row without the tag
}


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["list", "detail"])
def test_r24_rolled_back_change_keeps_the_tag(client, mode, django_capture_on_commit_callbacks, target):
    article = ArticleFactory(tags=[TagFactory(name="red")])
    url = "/api/articles/" if target == "list" else f"/api/articles/{article.pk}/"
    first = client.get(url, headers={"accept": "application/json"})
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        for change in CHANGES.values():
            change(article, Tag.objects.get_or_create(name="other")[0])
        raise RuntimeError
    again = client.get(url, headers={"accept": "application/json", "if-none-match": first["ETag"]})
    assert again.status_code == 304
