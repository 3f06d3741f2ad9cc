"""versions.recording: stamps, row versions and store tokens move with every committed change."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from django_httpcache import versions
from django_httpcache.models import ModelStamp
from tests.testapp.models import Article, ArticleProxy, Note, Tag
from tests.versions.helpers import serial, tokens

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", [Article, Tag], ids=["with version fields", "without"])
def test_a_committed_save_moves_the_stamp(commit, model):
    with commit():
        model.objects.create(**({"title": "a"} if model is Article else {"name": "x"}))
    assert serial(model) == 1


def test_nothing_moves_before_the_commit():
    Article.objects.create(title="a")
    assert serial(Article) == 0


def test_r24_delete_stamps(commit):
    article = Article.objects.create(title="a")
    with commit():
        article.delete()
    assert serial(Article) == 1


def test_r24_proxy_delete_stamps(commit):
    article = ArticleProxy.objects.create(title="a")
    with commit():
        ArticleProxy.objects.get(pk=article.pk).delete()
    assert serial(Article) == 1


def test_r24_rolled_back_change_leaves_no_stamp(commit):
    article = Article.objects.create(title="a")
    pk = article.pk
    with commit() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        article.delete()
        raise RuntimeError
    assert callbacks == []
    assert serial(Article) == 0 and Article.objects.filter(pk=pk).exists()


def test_untracked_models_are_left_alone(commit):
    with commit():
        Note.objects.create(text="n").delete()
    assert not ModelStamp.objects.exists()


def test_bump_stamps_every_model_once(commit):
    with commit():
        versions.bump(Article, Tag, Article.objects.create(title="x"))
    assert (serial(Article), serial(Tag)) == (1, 1)


def test_one_transaction_moves_each_stamp_once(commit):
    with commit():
        for index in range(5):
            Article.objects.create(title=str(index))
        Article.objects.update(body="x")
    assert serial(Article) == 1


def test_r24_m2m_add_touches_both_sides():
    article = Article.objects.create(title="a")
    tag = Tag.objects.create(name="t")
    before = Article.objects.get(pk=article.pk)
    article.tags.add(tag)
    after = Article.objects.get(pk=article.pk)
    assert after.version == before.version + 1 and after.updated_at > before.updated_at
    assert article.version == after.version  # the in-memory instance follows


def test_r24_m2m_reverse_side():
    article = Article.objects.create(title="a")
    tag = Tag.objects.create(name="t")
    tag.articles.add(article)
    assert Article.objects.get(pk=article.pk).version == article.version + 1


def test_r24_m2m_clear_touches_the_cleared_rows():
    article = Article.objects.create(title="a")
    tag = Tag.objects.create(name="t")
    article.tags.add(tag)
    version = Article.objects.get(pk=article.pk).version
    tag.articles.clear()
    assert Article.objects.get(pk=article.pk).version == version + 1


def test_m2m_no_op_does_nothing():
    article = Article.objects.create(title="a")
    article.tags.add()
    assert Article.objects.get(pk=article.pk).version == article.version


def test_counter_tokens_are_stable_until_a_commit(counter, django_capture_on_commit_callbacks):
    first = tokens(counter, Article)
    assert tokens(counter, Article) == first
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        Article.objects.create(title="a")
    assert len(callbacks) == 1
    assert tokens(counter, Article) != first


def test_counter_not_bumped_before_commit(counter, django_capture_on_commit_callbacks):
    first = tokens(counter, Article)
    with django_capture_on_commit_callbacks(execute=False):
        Article.objects.create(title="a")
        assert tokens(counter, Article) == first  # a reader before the commit sees old data


def test_r24_counter_rollback_bumps_nothing(counter, django_capture_on_commit_callbacks):
    article = Article.objects.create(title="a")
    first = tokens(counter, Article)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        article.title = "b"
        article.save()
        Article.objects.filter(pk=article.pk).update(body="x")
        raise RuntimeError
    assert callbacks == []
    assert tokens(counter, Article) == first


@pytest.mark.parametrize(
    "change",
    [
        lambda a, t: a.save(),
        lambda a, t: a.delete(),
        lambda a, t: Article.objects.filter(pk=a.pk).update(body="x"),
        lambda a, t: Article.objects.bulk_create([Article(title="new")]),
        lambda a, t: Article.objects.bulk_update([a], ["title"]),
        lambda a, t: a.tags.add(t),
        lambda a, t: versions.bump(Article),
    ],
    ids=["save", "delete", "update", "bulk_create", "bulk_update", "m2m", "bump"],
)
def test_r24_every_change_bumps_the_counter(counter, django_capture_on_commit_callbacks, change):
    article, tag = Article.objects.create(title="a"), Tag.objects.create(name="t")
    first = tokens(counter, Article)
    with django_capture_on_commit_callbacks(execute=True):
        change(article, tag)
    assert tokens(counter, Article) != first


def test_save_moves_the_version_field():
    article = Article.objects.create(title="a")
    assert article.version == 1
    article.save()
    assert Article.objects.get(pk=article.pk).version == 2 == article.version


@pytest.mark.parametrize("fields", [["title"], ["title", "version"], ["title", "updated_at"]])
def test_save_with_update_fields_still_moves_the_version_fields(fields):
    article = Article.objects.create(title="a")
    before = Article.objects.get(pk=article.pk)
    article.title = "b"
    article.save(update_fields=fields)
    after = Article.objects.get(pk=article.pk)
    assert after.version == before.version + 1 and after.updated_at > before.updated_at
    assert article.version == after.version


def test_raw_saves_are_left_alone():
    from django.core import serializers

    article = Article.objects.create(title="a")
    (loaded,) = serializers.deserialize("json", serializers.serialize("json", [article]))
    loaded.save()  # raw, as loaddata does
    assert Article.objects.get(pk=article.pk).version == 1


def test_r24_set_null_on_delete_moves_the_referring_rows():
    tag = Tag.objects.create(name="t")
    article = Article.objects.create(title="a", featured=tag)
    version = Article.objects.get(pk=article.pk).version
    tag.delete()
    after = Article.objects.get(pk=article.pk)
    assert after.featured is None and after.version == version + 1


def test_changes_reach_a_shared_store_in_aggregate_mode_too(settings, commit):
    """So that switching the project to counter mode never finds tokens that missed writes."""
    settings.CACHES = {
        **settings.CACHES,
        "versions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "switch"},
    }
    settings.DEBUG = True
    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_MODE": "aggregate", "VERSION_CACHE": "versions"}
    versions.reset_stores()
    assert versions.counter_store() is None  # aggregate mode reads no tokens
    store = versions.writable_store()
    first = tokens(store, Article)
    with commit():
        Article.objects.create(title="written in aggregate mode")
    assert tokens(store, Article) != first


def test_aggregate_mode_writes_no_tokens_unless_a_version_cache_is_named(settings):
    settings.DEBUG = True
    settings.HTTPCACHE = {k: v for k, v in settings.HTTPCACHE.items() if k != "VERSION_CACHE"}
    versions.reset_stores()
    assert versions.writable_store() is None  # the default cache is left alone


def test_a_failed_stamp_does_not_stop_the_token_bump(counter, commit, monkeypatch, caplog):
    first = tokens(counter, Article)

    def broken(model, using):
        raise RuntimeError("stamp table missing")

    monkeypatch.setattr(versions.recording, "_stamp", broken)
    with caplog.at_level(logging.ERROR, logger="django_httpcache"), commit():
        Article.objects.create(title="a")
    assert "Could not move the stamp" in caplog.text
    assert tokens(counter, Article) != first
