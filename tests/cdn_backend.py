"""A purge backend for tests: records what it is asked, fails on demand."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import pytest
from django.test import override_settings

from django_httpcache.cdn import purge, tags
from django_httpcache.cdn.backends import PurgeBackend, PurgeError
from django_httpcache.cdn.backends.base import Option


class RecordingBackend(PurgeBackend):
    name = "recording"
    header = "Surrogate-Key"
    separator = " "
    max_keys_per_request = 256

    calls: list[list[str]] = []
    threads: list[str] = []
    #: fail this many of the next calls (retryable), or permanently
    failures = 0
    permanent = False

    # Tests set the budget through options.
    options_spec: ClassVar[Mapping[str, Option]] = {
        **PurgeBackend.options_spec,
        **{
            name: Option(lambda v: True, "anything")
            for name in ("max_keys_per_request", "max_tags", "max_header_bytes", "max_tag_bytes", "separator", "header")
        },
    }

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        for name in self.options_spec:
            if name in self.options and name not in PurgeBackend.options_spec:
                setattr(self, name, self.options[name])

    def purge_keys(self, keys: Sequence[str]) -> None:
        cls = type(self)
        if cls.failures:
            cls.failures -= 1
            raise PurgeError("purge endpoint down", permanent=cls.permanent)
        cls.calls.append(list(keys))
        cls.threads.append(threading.current_thread().name)

    def purge_urls(self, urls: Sequence[str]) -> None:
        type(self).calls.append([f"url:{url}" for url in urls])

    @classmethod
    def reset(cls) -> None:
        cls.calls, cls.threads, cls.failures, cls.permanent = [], [], 0, False

    @classmethod
    def purged(cls) -> set[str]:
        return {key for call in cls.calls for key in call}


PATH = "tests.cdn_backend.RecordingBackend"


@contextmanager
def cdn(settings: Any, **options: Any) -> Iterator[None]:
    """HTTPCACHE["CDN"] with the recording backend (``options`` go to it, upper-case keys
    to HTTPCACHE["CDN"] itself)."""
    extra = {k: v for k, v in options.items() if k.isupper()}
    backend_options = {k: v for k, v in options.items() if not k.isupper()}
    value = {**settings.HTTPCACHE, "CDN": {"BACKEND": PATH, "OPTIONS": backend_options, **extra}}
    with override_settings(HTTPCACHE=value):
        yield


@pytest.fixture
def recording(monkeypatch):
    RecordingBackend.reset()
    tags.stats.clear()
    purge.stats.clear()
    monkeypatch.setattr(purge, "BACKOFF_FIRST", 0.01)
    yield RecordingBackend
    purge.queue.join(timeout=5)
    RecordingBackend.reset()
