"""R28: purges go out after commit, deduplicated per transaction; a rollback purges
nothing; a failed purge is retried and never fails the write."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from django_httpcache.cdn import purge
from tests.cdn_backend import cdn
from tests.testapp.models import Article, Tag

committed = pytest.mark.django_db(transaction=True)


class Boom(Exception):
    pass


def purged_after(backend) -> set[str]:
    assert purge.queue.join(timeout=5)
    return backend.purged()


def forget(backend) -> None:
    """Forget the purges of the setup's writes (once they went out)."""
    assert purge.queue.join(timeout=5)
    backend.reset()


@committed
def test_r28_nothing_is_purged_before_the_commit(settings, recording):
    with cdn(settings):
        article = Article.objects.create(title="a")
        forget(recording)
        with transaction.atomic():
            article.title = "b"
            article.save()
            assert purged_after(recording) == set()
        assert purged_after(recording) == {"testapp.article", f"testapp.article.{article.pk}"}


@committed
def test_r28_a_rollback_purges_nothing(settings, recording):
    with cdn(settings):
        article = Article.objects.create(title="a")
        forget(recording)
        with pytest.raises(Boom), transaction.atomic():
            Article.objects.filter(pk=article.pk).update(title="b")
            article.tags.add(Tag.objects.create(name="red"))
            raise Boom
        Tag.objects.create(name="blue")  # the connection's next commit
        assert "testapp.article" not in purged_after(recording)


@committed
def test_r28_a_rolled_back_savepoint_keeps_only_the_rest(settings, recording):
    with cdn(settings):
        kept, dropped = Article.objects.create(title="a"), Tag.objects.create(name="red")
        forget(recording)
        with transaction.atomic():
            kept.save()
            with pytest.raises(Boom), transaction.atomic():
                dropped.save()
                raise Boom
        assert purged_after(recording) == {"testapp.article", f"testapp.article.{kept.pk}"}


@committed
def test_r28_deduplicated_per_transaction(settings, recording):
    with cdn(settings):
        first, second = Article.objects.create(title="a"), Article.objects.create(title="b")
        forget(recording)
        with transaction.atomic():
            for _ in range(3):
                first.save()
            second.save()
            transaction.on_commit(lambda: None)  # an application callback in between
            first.save()
        assert purged_after(recording) == {
            "testapp.article",
            f"testapp.article.{first.pk}",
            f"testapp.article.{second.pk}",
        }
        assert all(len(call) == len(set(call)) for call in recording.calls)
        assert sum(call.count("testapp.article") for call in recording.calls) <= 2


@committed
def test_r28_a_failed_purge_is_retried_and_never_fails_the_write(settings, recording, caplog):
    recording.failures = 3
    with cdn(settings), caplog.at_level(logging.WARNING, "django_httpcache"):
        article = Article.objects.create(title="a")  # the write itself succeeds
        assert Article.objects.get(pk=article.pk).title == "a"
        assert purged_after(recording) == {"testapp.article", f"testapp.article.{article.pk}"}
    assert purge.stats["retries"] == 3
    failing = [r for r in caplog.records if "fail" in r.getMessage()]
    assert len(failing) == 1  # once per outage
    assert any("work again" in r.getMessage() for r in caplog.records)


@committed
def test_r28_a_rejected_purge_is_dropped_not_retried(settings, recording, caplog):
    recording.failures, recording.permanent = 1, True
    with cdn(settings):
        Article.objects.create(title="a")
        assert purged_after(recording) == set()
    assert purge.stats["dropped"] == 2 and purge.stats["retries"] == 0
