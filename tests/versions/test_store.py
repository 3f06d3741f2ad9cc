"""versions.store: the counter store, its failures, and when counter mode is refused."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches

from django_httpcache import versions
from tests.testapp.models import Article
from tests.versions.helpers import COUNTER, tokens

pytestmark = pytest.mark.django_db


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


def test_changes_being_written_are_still_pending(counter, monkeypatch):
    """While a flush writes the kept changes they are not recorded yet: ``pending`` must
    not read empty in that moment (a watcher would think the outage is over)."""
    cache_class = type(caches["versions"])
    real_set_many = cache_class.set_many
    seen_during_write = []

    def down(self, data, timeout=None, version=None):
        raise ConnectionError("down")

    monkeypatch.setattr(counter, "COOLDOWN", 3600)  # no retry timer in the way
    monkeypatch.setattr(cache_class, "set_many", down)
    counter.bump(["testapp.article"])

    def watched(self, data, timeout=None, version=None):
        seen_during_write.append(counter.pending)
        return real_set_many(self, data, timeout, version)

    monkeypatch.setattr(cache_class, "set_many", watched)
    counter._flush()
    assert seen_during_write == [frozenset({"testapp.article"})]
    assert counter.pending == frozenset()


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
