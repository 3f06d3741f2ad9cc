"""versions.managers: the versioned QuerySet's bulk writes record a change like save()."""

from __future__ import annotations

import pytest

from tests.testapp.models import Article, Tag
from tests.versions.helpers import serial

pytestmark = pytest.mark.django_db


def test_r24_queryset_update_moves_versions_and_stamps(commit):
    article = Article.objects.create(title="a")
    with commit():
        assert Article.objects.filter(pk=article.pk).update(body="new") == 1
    updated = Article.objects.get(pk=article.pk)
    assert updated.version == article.version + 1 and updated.updated_at > article.updated_at
    assert serial(Article) == 1


def test_queryset_update_of_nothing_does_nothing(commit):
    with commit() as callbacks:
        assert Article.objects.filter(pk=-1).update(body="x") == 0
    assert callbacks == [] and serial(Article) == 0


def test_r24_bulk_update(commit):
    articles = [Article.objects.create(title=str(i)) for i in range(3)]
    for article in articles:
        article.body = "changed"
    with commit():
        Article.objects.bulk_update(articles, ["body"])
    assert sorted(Article.objects.values_list("version", flat=True)) == [2, 2, 2]  # create, then update
    assert serial(Article) == 1


def test_r24_bulk_create(commit):
    with commit():
        Article.objects.bulk_create([Article(title="a"), Article(title="b")])
    assert serial(Article) == 1


def test_r24_queryset_delete_stamps_once(commit):
    with commit():
        for i in range(5):
            Article.objects.create(title=str(i))
        Article.objects.all().delete()
    assert serial(Article) == 1


def test_touch_on_a_model_without_version_fields_bumps_the_model(commit):
    Tag.objects.create(name="t")
    with commit() as callbacks:
        assert Tag.objects.filter(name="t").touch() == 1
    assert callbacks and serial(Tag) == 1


def test_touch_moves_row_versions():
    article = Article.objects.create(title="a")
    Article.objects.filter(pk=article.pk).touch()
    assert Article.objects.get(pk=article.pk).version == article.version + 1
