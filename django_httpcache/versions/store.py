"""The counter store: per-model tokens in a Django cache alias shared by every process,
which counter-mode validators read instead of the database."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.cache import InvalidCacheBackendError, caches
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from ..conf import conf
from ..policy import Problem

__all__ = [
    "PER_PROCESS_BACKENDS",
    "CounterStore",
    "StoreError",
    "counter_store",
    "is_per_process",
    "new_token",
    "reset_stores",
    "store_problem",
    "token_time",
    "writable_store",
]

logger = logging.getLogger("django_httpcache")

PER_PROCESS_BACKENDS = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


class StoreError(RuntimeError):
    """The version store could not be read; callers fall back to aggregate mode."""


def new_token() -> str:
    """Never the same twice, in any process: after an eviction or a store restart a
    counter starts from a value no client has seen."""
    return f"{time.time_ns():x}-{secrets.token_hex(6)}"


def token_time(token: str) -> float:
    try:
        return int(token.split("-", 1)[0], 16) / 1e9
    except (ValueError, AttributeError):
        return time.time()


class CounterStore:
    """Per-model tokens in a Django cache alias shared by every process.

    When the store fails, reads leave it alone for ``COOLDOWN`` seconds (they fall back
    to aggregate mode at once instead of waiting on a socket timeout per request);
    bumps are always tried. Changes it could not record are kept and written before
    anything is read from it again, by the next read or by a retry timer.
    """

    prefix = "httpcache:version:"
    COOLDOWN = 1.0

    def __init__(self, alias: str) -> None:
        self.alias = alias
        self._pending: set[str] = set()
        self._flushing: set[str] = set()  # taken out of _pending while a flush writes them
        self._lock = threading.Lock()
        self._retry: threading.Timer | None = None
        self._local = threading.local()
        self._down_until = 0.0
        self._outage = False  # logged once when it starts, once when it ends

    @property
    def cache(self) -> Any:
        # caches[alias] is per thread already; remembering it saves a lookup per read.
        cache = getattr(self._local, "cache", None)
        if cache is None:
            cache = self._local.cache = caches[self.alias]
        return cache

    def tokens(self, labels: Sequence[str]) -> list[str]:
        """The current token of each model; raises StoreError if the store fails."""
        if time.monotonic() < self._down_until:
            raise StoreError(f"version store {self.alias!r} is cooling down after a failure")
        try:
            self._flush()
            keys = [self.prefix + key for key in labels]
            found = self.cache.get_many(keys)
            missing = [key for key in keys if key not in found]
            if missing:
                timeout = conf.VERSION_TIMEOUT
                for key in missing:
                    self.cache.add(key, new_token(), timeout)
                found.update(self.cache.get_many(missing))
            tokens = [found[key] for key in keys]
        except Exception as exc:
            self._failed(exc)
            raise StoreError(f"version store {self.alias!r} failed: {exc!r}") from exc
        self._recovered()
        return tokens

    def bump(self, labels: Iterable[str]) -> None:
        # Always tried, cooldown or not: once the writer's response is out, every other
        # process must see the new token, and only this write can make it so.
        labels = set(labels)
        try:
            self._write(labels)
        except Exception as exc:
            with self._lock:
                self._pending |= labels
            self._failed(exc)
        else:
            self._recovered()

    def _failed(self, exc: Exception) -> None:
        from ..metrics import version_store_failed  # here: metrics imports the versions package

        version_store_failed(self.alias)
        self._down_until = time.monotonic() + self.COOLDOWN
        if not self._outage:
            self._outage = True
            logger.warning(
                "Version store %r failed (%r): changes are kept until it answers again, and "
                "counter-mode validators fall back to aggregate mode meanwhile.",
                self.alias,
                exc,
            )
        if self._pending:
            self._schedule_retry()

    def _recovered(self) -> None:
        if self._outage:
            self._outage = False
            logger.warning("Version store %r answers again.", self.alias)

    def _write(self, labels: set[str]) -> None:
        failed = self.cache.set_many({self.prefix + key: new_token() for key in labels}, conf.VERSION_TIMEOUT)
        if failed:  # memcached reports the keys it could not store instead of raising
            raise StoreError(f"could not store {', '.join(sorted(failed))}")

    def _flush(self) -> None:
        """Changes this process could not record go first, else nothing is served."""
        if not self._pending:
            return
        with self._lock:
            pending, self._pending = self._pending, set()
            self._flushing |= pending
        try:
            self._write(pending)
        except Exception:
            with self._lock:
                self._pending |= pending
                self._flushing -= pending
            raise
        with self._lock:
            self._flushing -= pending
        logger.info("Version store %r: recorded the changes kept during its outage.", self.alias)

    def _schedule_retry(self) -> None:
        with self._lock:
            running = self._retry
            if running is not None and running.is_alive() and running is not threading.current_thread():
                return
            self._retry = threading.Timer(self.COOLDOWN, self._retry_pending)
            self._retry.daemon = True
            self._retry.start()

    def _retry_pending(self) -> None:
        try:
            self._flush()
        except Exception as exc:
            self._failed(exc)  # schedules the next attempt
        else:
            self._recovered()

    @property
    def pending(self) -> frozenset[str]:
        """Changes not recorded yet, those being written right now included."""
        with self._lock:
            return frozenset(self._pending | self._flushing)


_stores: dict[str, CounterStore] = {}
_refused: set[str] = set()
_UNDECIDED = object()
_current: Any = _UNDECIDED  # counter_store()'s answer until a setting changes
_writable: Any = _UNDECIDED  # writable_store()'s


def _backend_class(path: Any) -> type | None:
    try:
        found = import_string(path) if isinstance(path, str) else None
    except ImportError:
        return None
    return found if isinstance(found, type) else None


def _per_process(backend: Any) -> bool:
    """Judged by what the backend is, not by its dotted path: a subclass of LocMemCache
    or DummyCache under another name keeps its data in the process just the same."""
    if backend in PER_PROCESS_BACKENDS:
        return True
    cls = _backend_class(backend)
    return cls is not None and issubclass(cls, tuple(filter(None, map(_backend_class, PER_PROCESS_BACKENDS))))


def is_per_process(alias: str) -> bool:
    return _per_process(settings.CACHES.get(alias, {}).get("BACKEND", ""))


def counter_store() -> CounterStore | None:
    """The store counter-mode validators read, when counter mode is on and safe.

    A per-process cache (LocMemCache) would hand out stale 304s as soon as a second
    worker process exists, so outside DEBUG it is refused here as well as by the
    system check (httpcache.E020): validators fall back to aggregate mode.
    """
    global _current
    if _current is _UNDECIDED:
        _current = _shared_store(log=True) if conf.VERSION_MODE == "counter" else None
    return _current  # type: ignore[no-any-return]


def writable_store() -> CounterStore | None:
    """Where changes are recorded: the version store in counter mode, and in aggregate
    mode too when HTTPCACHE names a VERSION_CACHE that is shared, so that switching the
    project to counter mode never finds tokens that missed the writes made meanwhile.
    (An aggregate-mode project that names none does not pay for writes to its cache.)"""
    global _writable
    if _writable is _UNDECIDED:
        counter = conf.VERSION_MODE == "counter"
        named = "VERSION_CACHE" in conf.user_settings()
        _writable = _shared_store(log=counter) if counter or named else None
    return _writable  # type: ignore[no-any-return]


FILE_BACKEND = "django.core.cache.backends.filebased.FileBasedCache"


def store_problem(alias: str) -> Problem | None:
    """What is wrong with ``alias`` as the version store, if anything: an error (E020,
    E021) refuses counter mode at run time too; a warning (W005) does not."""
    caches_setting = getattr(settings, "CACHES", {})
    if alias not in caches_setting:
        msg = f"HTTPCACHE['VERSION_CACHE'] = {alias!r} is not an alias in CACHES."
        return Problem("httpcache.E021", msg)
    backend = caches_setting[alias].get("BACKEND", "")
    if _per_process(backend) and not settings.DEBUG:
        msg = (
            f"Counter mode needs a version store shared by every worker process, but "
            f"CACHES[{alias!r}] uses {backend}: with several workers it would hand out stale "
            "304s. Use RedisCache, PyMemcacheCache or DatabaseCache, or VERSION_MODE 'aggregate'."
        )
        return Problem("httpcache.E020", msg)
    if backend == FILE_BACKEND:
        msg = f"CACHES[{alias!r}] (FileBasedCache) is shared by the processes of one machine only."
        return Problem("httpcache.W005", msg, warning=True)
    return None


# The one-line reason logged when store_problem() refuses counter mode at run time.
_REFUSALS = {
    "httpcache.E020": "CACHES[{alias!r}] is per-process and cannot be shared by worker processes",
    "httpcache.E021": "HTTPCACHE['VERSION_CACHE'] = {alias!r} is not in CACHES",
}


def _shared_store(*, log: bool) -> CounterStore | None:
    alias = conf.VERSION_CACHE
    problem = store_problem(alias)
    if problem is not None and not problem.warning:
        if log and alias not in _refused:
            _refused.add(alias)
            reason = _REFUSALS[problem.id].format(alias=alias)
            logger.error("Counter mode refused: %s; using aggregate mode (see manage.py check).", reason)
        return None
    store = _stores.get(alias)
    if store is None:
        try:
            caches[alias]
        except InvalidCacheBackendError:
            return None
        store = _stores[alias] = CounterStore(alias)
    return store


def reset_stores() -> None:
    global _current, _writable
    _stores.clear()
    _refused.clear()
    _current = _writable = _UNDECIDED


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    if setting in ("HTTPCACHE", "CACHES", "DEBUG"):
        reset_stores()


setting_changed.connect(_on_setting_changed, dispatch_uid="httpcache:versions-settings")
