"""Purges after commit (R28): collect the keys of a transaction's changes, send them later.

``versions.recording`` notes each change inside its transaction (``change_noted``). Here
every change registers an on_commit callback carrying its keys, so that a rolled-back
transaction or savepoint drops them with its callbacks; a flush callback, kept after
them, hands the transaction's keys, deduplicated, to the dispatcher once they all ran.

The dispatcher never blocks the write: through Django's Tasks framework when
``HTTPCACHE["CDN"]["TASKS"]`` is on and a ``TASKS`` backend is configured, else to a
background thread of this process that drains a queue. Failed chunks are retried with
backoff (the provider's ``retry_after`` when it gives one), logged once per outage and
counted in ``stats``; a write never fails because a purge did.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any, cast

from django.conf import settings as django_settings
from django.db import models, transaction

from .. import metrics
from ..versions.recording import change_noted
from ..versions.registry import concrete, label
from . import cdn_settings, change_keys, warn_once
from .backends import PurgeBackend, PurgeError

__all__ = ["PurgeQueue", "enqueue", "on_change", "purge_now", "queue", "ready", "stats"]

logger = logging.getLogger("django_httpcache")

#: per process: "keys" sent, "requests" made, "failures", "retries", "dropped" keys
stats: Counter[str] = Counter()

BACKOFF_FIRST = 0.25  # seconds before the first retry; doubles up to BACKOFF_MAX
BACKOFF_MAX = 30.0
EXIT_FLUSH = 10.0  # seconds a process (a command, a script) waits at exit for its purges
_KEYS = "_httpcache_purge_keys"


def ready() -> None:
    """From AppConfig.ready(): the receiver, the system checks, the admin action."""
    from . import admin, checks  # noqa: F401  (checks registers itself)

    change_noted.connect(on_change, weak=False, dispatch_uid="httpcache:cdn")
    admin.add_purge_action()


# -- collecting, inside the transaction -------------------------------------------------


def on_change(sender: type[models.Model], using: str, pks: Iterable[Any] | None, **kwargs: Any) -> None:
    """Receiver of ``recording.change_noted``: queue this change's keys for after commit."""
    found = cdn_settings()
    if found is None:
        return
    rows = None if pks is None else list(pks)
    keys: set[str] = set()
    for model in (sender, *(concrete(parent) for parent in sender._meta.get_parent_list())):
        keys.update(change_keys(label(model), rows, found.prefix))
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:  # autocommit: already committed
        enqueue(keys)
        return
    transaction.on_commit(partial(_committed, using, frozenset(keys)), using=using, robust=True)
    hooks = connection.run_on_commit
    if len(hooks) > 1 and _is_flush(hooks[-2][1], using):
        hooks[-1], hooks[-2] = hooks[-2], hooks[-1]  # before the flush already queued
    else:
        transaction.on_commit(partial(_flush, using), using=using, robust=True)


def _is_flush(func: Any, using: str) -> bool:
    return isinstance(func, partial) and func.func is _flush and func.args == (using,)


def _committed(using: str, keys: frozenset[str]) -> None:
    transaction.get_connection(using).__dict__.setdefault(_KEYS, set()).update(keys)


def _flush(using: str) -> None:
    keys = transaction.get_connection(using).__dict__.pop(_KEYS, None)
    if keys:
        enqueue(keys)


# -- dispatching, after commit ----------------------------------------------------------


def enqueue(keys: Iterable[str]) -> None:
    """Send ``keys`` outside the request: a task, else this process's purge thread."""
    keys = sorted(set(keys))
    found = cdn_settings()
    if found is None or not keys:
        return
    if found.tasks and _tasks_configured():
        try:
            from .tasks import purge_keys_task

            purge_keys_task.enqueue(keys)
            return
        except Exception as exc:  # the queue is down: this process sends them
            warn_once("tasks", "Could not enqueue a purge task (%s); purging from a thread instead.", exc)
    queue.put(keys)


def _tasks_configured() -> bool:
    # Django 6's default TASKS runs tasks inline: only an explicit TASKS setting counts.
    return bool(cast(Any, django_settings).is_overridden("TASKS"))


def purge_now(keys: Sequence[str], backend: PurgeBackend | None = None) -> None:
    """Purge ``keys`` now, chunked; raise PurgeError on the first chunk that fails."""
    if backend is None:
        found = cdn_settings()
        if found is None:
            raise PurgeError('HTTPCACHE["CDN"] has no BACKEND: nothing to purge.', permanent=True)
        backend = found.backend
    size = max(1, backend.max_keys_per_request)
    ordered = sorted(set(keys))
    for start in range(0, len(ordered), size):
        began = time.perf_counter()
        try:
            backend.purge_keys(ordered[start : start + size])
        except Exception:
            metrics.purge(backend.name, "failed", time.perf_counter() - began)
            raise
        metrics.purge(backend.name, "sent", time.perf_counter() - began)
        stats["requests"] += 1
        stats["keys"] += len(ordered[start : start + size])


class PurgeQueue:
    """Keys waiting for this process's purge thread, deduplicated; retried with backoff."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.pending: set[str] = set()
        self.busy = False
        self.thread: threading.Thread | None = None
        self.pid = 0
        self.failing_since: float | None = None
        self.attempt = 0

    def put(self, keys: Iterable[str]) -> None:
        with self.lock:
            self.pending.update(keys)
            if self.thread is None or self.pid != os.getpid() or not self.thread.is_alive():
                # First use, or a forked worker (threads do not survive fork).
                self.pid = os.getpid()
                self.thread = threading.Thread(target=self._run, name="httpcache-purge", daemon=True)
                self.thread.start()
                atexit.register(self.join, EXIT_FLUSH)
            self.lock.notify_all()

    def join(self, timeout: float = 5.0) -> bool:
        """Wait until nothing is pending or in flight (for tests and commands)."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.pending or self.busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(left)
        return True

    def _run(self) -> None:
        while True:
            with self.lock:
                while not self.pending:
                    self.lock.wait()
                keys, self.pending, self.busy = self.pending, set(), True
            delay = self._send(keys)
            with self.lock:
                self.busy = False
                self.lock.notify_all()
            if delay:
                time.sleep(delay)

    def _send(self, keys: set[str]) -> float:
        """Send ``keys``; on failure put them back and return how long to wait."""
        found = cdn_settings()
        if found is None:
            return 0.0
        try:
            purge_now(sorted(keys), found.backend)
        except PurgeError as exc:
            return self._failed(keys, found.backend, exc)
        except Exception as exc:  # a backend bug must not kill the thread
            logger.exception("Purge backend %s raised; keys kept for a retry.", found.backend.name)
            return self._failed(keys, found.backend, PurgeError(str(exc)))
        if self.failing_since is not None:
            logger.warning(
                "Purges to %s work again after %.1f s (%d retries).",
                found.backend.name,
                time.monotonic() - self.failing_since,
                self.attempt,
            )
            self.failing_since, self.attempt = None, 0
        return 0.0

    def _failed(self, keys: set[str], backend: PurgeBackend, exc: PurgeError) -> float:
        stats["failures"] += 1
        if exc.permanent:
            stats["dropped"] += len(keys)
            logger.error("Purge of %d keys rejected by %s: %s (not retried).", len(keys), backend.name, exc)
            return 0.0
        if self.failing_since is None:  # once per outage
            self.failing_since = time.monotonic()
            logger.warning("Purges to %s fail (%s); retrying with backoff.", backend.name, exc)
        stats["retries"] += 1
        self.attempt += 1
        with self.lock:
            self.pending |= keys  # deduplicated with what arrived meanwhile
        delay = min(BACKOFF_FIRST * (1 << min(self.attempt - 1, 16)), BACKOFF_MAX)
        return max(delay, float(exc.retry_after or 0.0))


queue = PurgeQueue()
