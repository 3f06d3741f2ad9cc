"""Outcome counts per view over a recent window, in a cache shared by every process,
for ``manage.py httpcache_stats`` (projects without Prometheus).

Off unless HTTPCACHE['STATS_CACHE'] names a cache alias. Each process counts in memory
per minute and writes its counts of the current minute to the cache at most every
``FLUSH`` seconds (one ``set``), under a slot number it takes once per minute (one
``incr``): a request pays a dict increment, the process about one cache write per
``FLUSH`` seconds. A process that dies loses its last ``FLUSH`` seconds of counts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from typing import Any

from django.core.cache import caches

from .conf import conf

__all__ = ["BUCKET", "FLUSH", "count", "flush", "read"]

logger = logging.getLogger("django_httpcache")

BUCKET = 60  # seconds per bucket
FLUSH = 5.0  # seconds between a process's writes
PREFIX = "httpcache:stats:"


class _Local:
    """This process's counts of the current bucket."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bucket = 0
        self.slot: int | None = None
        self.counts: Counter[tuple[str, str]] = Counter()
        self.flushed_at = 0.0
        self.failed = False


_local = _Local()


def _cache() -> Any:
    return caches[conf.STATS_CACHE]


def count(view: str, outcome: str, now: float | None = None) -> None:
    """Count one response; writes to the cache now and then (never raises)."""
    now = time.time() if now is None else now
    bucket = int(now // BUCKET)
    with _local.lock:
        if bucket != _local.bucket:
            pending = (_local.bucket, _local.slot, dict(_local.counts))
            _local.bucket, _local.slot, _local.counts = bucket, None, Counter()
        else:
            pending = None
        _local.counts[(view, outcome)] += 1
        due = now - _local.flushed_at >= FLUSH
    if pending is not None and pending[2]:
        _write(*pending)  # the finished minute, whole
    if due:
        flush(now)


def flush(now: float | None = None) -> None:
    """Write this process's counts of the current bucket to the cache."""
    with _local.lock:
        _local.flushed_at = time.time() if now is None else now
        bucket, slot, counts = _local.bucket, _local.slot, dict(_local.counts)
    if counts:
        taken = _write(bucket, slot, counts)
        with _local.lock:
            if _local.bucket == bucket:
                _local.slot = taken


def _write(bucket: int, slot: int | None, counts: dict[tuple[str, str], int]) -> int | None:
    try:
        cache = _cache()
        timeout = conf.STATS_WINDOW + 2 * BUCKET
        if slot is None:
            key = f"{PREFIX}{bucket}:n"
            cache.add(key, 0, timeout)
            slot = int(cache.incr(key))
        cache.set(f"{PREFIX}{bucket}:{slot}", [[v, o, n] for (v, o), n in counts.items()], timeout)
    except Exception as exc:
        if not _local.failed:
            _local.failed = True
            logger.warning("HTTPCACHE['STATS_CACHE'] %r failed (%r): stats are incomplete.", conf.STATS_CACHE, exc)
        return slot
    _local.failed = False
    return slot


def read(window: float, now: float | None = None) -> dict[str, Counter[str]]:
    """Per view, the count of each outcome over the last ``window`` seconds (whole buckets)."""
    now = time.time() if now is None else now
    cache = _cache()
    last = int(now // BUCKET)
    buckets = range(last - max(1, int(window // BUCKET)) + 1, last + 1)
    sizes = cache.get_many([f"{PREFIX}{b}:n" for b in buckets])
    keys = [f"{PREFIX}{b}:{slot}" for b in buckets for slot in range(1, int(sizes.get(f"{PREFIX}{b}:n", 0)) + 1)]
    totals: dict[str, Counter[str]] = {}
    for rows in cache.get_many(keys).values():
        for view, outcome, number in rows:
            totals.setdefault(view, Counter())[outcome] += number
    return totals
