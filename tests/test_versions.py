"""versions.py: tracking, stamps, touching, the versioned QuerySet, the counter store."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches
from django.db import transaction

from catalog.models import Category, Product
from django_httpcache import versions
from django_httpcache.models import ModelStamp
from tests.testapp.models import Article, ArticleProxy, Note, Tag

pytestmark = pytest.mark.django_db

COUNTER = {
    "VERSION_MODE": "counter",
    "VERSION_CACHE": "versions",
}


def serial(model) -> int:
    stamp = ModelStamp.objects.filter(label=model._meta.label_lower).first()
    return stamp.serial if stamp else 0


@pytest.fixture
def counter(settings):
    settings.CACHES = {
        **settings.CACHES,
        "versions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "versions"},
    }
    settings.DEBUG = True  # a per-process store is only allowed in DEBUG (one process)
    settings.HTTPCACHE = {**settings.HTTPCACHE, **COUNTER}
    caches["versions"].clear()
    versions.reset_stores()
    yield versions.counter_store()
    versions.reset_stores()


def tokens(store, *models):
    return store.tokens([m._meta.label_lower for m in models])


# -- tracking -------------------------------------------------------------------------


def test_versioned_manager_tracks_its_model():
    assert versions.is_tracked(Article) and versions.is_tracked(Tag)
    assert versions.is_tracked(Product) and versions.is_tracked(Category)
    assert versions.is_tracked(ArticleProxy)
    assert not versions.is_tracked(Note)


def test_track_by_label():
    versions.track("testapp.Note")
    try:
        assert versions.is_tracked(Note)
    finally:
        versions._tracked.discard(Note)


def test_row_fields(settings):
    assert [f.name for f in versions.row_fields(Article)] == ["version", "updated_at"]
    assert versions.row_fields(Tag) == (None, None)
    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_FIELD": "title"}  # not an integer
    assert versions.row_fields(Article)[0] is None


# -- stamps: every committed change moves its model's stamp ----------------------------------


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run what the test's transaction would run when it commits, at the end of the block."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


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


# -- m2m ---------------------------------------------------------------------------------


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


# -- the versioned QuerySet --------------------------------------------------------------


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


# -- the counter store --------------------------------------------------------------------


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


def test_counter_tokens_never_repeat_after_eviction(counter):
    first = tokens(counter, Article)
    caches["versions"].clear()  # eviction, or a store restarted empty
    assert tokens(counter, Article) != first


def test_counter_store_failure_raises_store_error(counter, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("down")

    monkeypatch.setattr(caches["versions"], "get_many", broken)
    with pytest.raises(versions.StoreError):
        tokens(counter, Article)


def test_failed_bump_is_kept_and_written_before_any_read(counter, monkeypatch, caplog):
    first = tokens(counter, Article)
    real_set_many = caches["versions"].set_many

    def broken(*args, **kwargs):
        raise ConnectionError("down")

    monkeypatch.setattr(caches["versions"], "set_many", broken)
    monkeypatch.setattr(counter, "_schedule_retry", lambda: None)
    with caplog.at_level(logging.WARNING, logger="django_httpcache"):
        counter.bump(["testapp.article"])
    assert "failed" in caplog.text
    assert counter.pending == {"testapp.article"}
    with pytest.raises(versions.StoreError):
        tokens(counter, Article)  # no counter validators while a change is unrecorded
    monkeypatch.setattr(caches["versions"], "set_many", real_set_many)
    counter._down_until = 0  # the cooldown is over
    assert tokens(counter, Article) != first
    assert counter.pending == frozenset()


def test_cooldown_spares_the_store(counter, monkeypatch):
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise ConnectionError("down")

    monkeypatch.setattr(caches["versions"], "get_many", broken)
    for _ in range(5):
        with pytest.raises(versions.StoreError):
            tokens(counter, Article)
    assert len(calls) == 1  # one attempt, then the cooldown answers at once


def test_failure_is_logged_once_per_outage(counter, monkeypatch, caplog):
    monkeypatch.setattr(caches["versions"], "get_many", lambda *a, **k: (_ for _ in ()).throw(ConnectionError("x")))
    with caplog.at_level(logging.WARNING, logger="django_httpcache"):
        for _ in range(3):
            counter._down_until = 0 if _ == 0 else counter._down_until
            with pytest.raises(versions.StoreError):
                tokens(counter, Article)
    assert caplog.text.count("failed") == 1


def test_keys_the_store_could_not_set_count_as_a_failure(counter, monkeypatch):
    monkeypatch.setattr(caches["versions"], "set_many", lambda data, timeout=None: list(data))  # memcached style
    monkeypatch.setattr(counter, "_schedule_retry", lambda: None)
    counter.bump(["testapp.article"])
    assert counter.pending == {"testapp.article"}


def test_retry_timer_keeps_retrying(counter, monkeypatch):
    """The timer reschedules itself from its own thread until the write succeeds."""
    import threading

    attempts = []
    cache_class = type(caches["versions"])  # every thread has its own cache object
    real_set_many = cache_class.set_many

    def flaky(self, data, timeout=None, version=None):
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("down")
        return real_set_many(self, data, timeout, version)

    monkeypatch.setattr(counter, "COOLDOWN", 0.05)
    monkeypatch.setattr(cache_class, "set_many", flaky)
    counter.bump(["testapp.article"])
    deadline = __import__("time").monotonic() + 5
    while counter.pending and __import__("time").monotonic() < deadline:
        threading.Event().wait(0.02)
    assert counter.pending == frozenset() and len(attempts) >= 3


def test_per_process_store_refused_outside_debug(settings, caplog):
    settings.DEBUG = False
    settings.CACHES = {**settings.CACHES, "versions": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.HTTPCACHE = {**settings.HTTPCACHE, **COUNTER}
    versions.reset_stores()
    with caplog.at_level(logging.ERROR):
        assert versions.counter_store() is None
    assert "per-process" in caplog.text


def test_unknown_cache_alias_refused(settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_MODE": "counter", "VERSION_CACHE": "nope"}
    versions.reset_stores()
    assert versions.counter_store() is None


def test_no_store_in_aggregate_mode():
    assert versions.counter_store() is None


def test_token_time():
    token = versions.new_token()
    import time

    assert abs(versions.token_time(token) - time.time()) < 5
    assert versions.new_token() != token


# -- fixes from review: every change moves something -------------------------------------


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


def test_touch_on_a_model_without_version_fields_bumps_the_model(commit):
    Tag.objects.create(name="t")
    with commit() as callbacks:
        assert Tag.objects.filter(name="t").touch() == 1
    assert callbacks and serial(Tag) == 1


def test_touch_moves_row_versions():
    article = Article.objects.create(title="a")
    Article.objects.filter(pk=article.pk).touch()
    assert Article.objects.get(pk=article.pk).version == article.version + 1


def test_r24_set_null_on_delete_moves_the_referring_rows():
    tag = Tag.objects.create(name="t")
    article = Article.objects.create(title="a", featured=tag)
    version = Article.objects.get(pk=article.pk).version
    tag.delete()
    after = Article.objects.get(pk=article.pk)
    assert after.featured is None and after.version == version + 1


def test_abstract_base_manager_tracks_the_subclass():
    from tests.testapp.models import Inherited

    assert versions.is_tracked(Inherited)


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

    monkeypatch.setattr(versions, "_stamp", broken)
    with caplog.at_level(logging.ERROR, logger="django_httpcache"), commit():
        Article.objects.create(title="a")
    assert "Could not move the stamp" in caplog.text
    assert tokens(counter, Article) != first
