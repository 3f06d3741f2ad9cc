"""Model versions: what changes when the data behind a representation changes (R24).

A change to a *tracked* model moves, once its transaction has committed:

- the model's **stamp** (a ``ModelStamp`` row), which aggregate-mode validators read
  beside COUNT and MAX(updated_at): it sees what they cannot (a delete, raw SQL, a
  model without version fields, a transaction that saved early and commits late);
- the model's **token** in the version store (a Django cache alias shared by every
  process), which counter-mode validators read instead of the database.

A rolled-back change moves neither. Rows move too: a save, update(), bulk_update()
or m2m change moves the row's version field and updated-at, for instance validators.

Changes are noticed by signals (post_save, post_delete, m2m_changed), by the versioned
QuerySet's bulk methods, and by ``bump()`` for anything else (raw SQL).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, cast

from django.apps import apps
from django.conf import settings
from django.core.cache import InvalidCacheBackendError, caches
from django.core.signals import setting_changed
from django.db import IntegrityError, models, router, transaction
from django.db.models import F
from django.db.models.signals import class_prepared, m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils import timezone

from .conf import conf

__all__ = [
    "VersionedManager",
    "VersionedQuerySet",
    "bump",
    "counter_store",
    "is_tracked",
    "track",
]

logger = logging.getLogger("django_httpcache")

ModelOrInstance = type[models.Model] | models.Model

_tracked: set[type[models.Model]] = set()
_unprepared: set[type[models.Model]] = set()
_local = threading.local()  # models whose per-object signals a bulk operation covers


# -- which models, which fields ---------------------------------------------------------


def track(*targets: ModelOrInstance | str) -> None:
    """Record changes to these models (classes, instances or "app_label.Model")."""
    for target in targets:
        if isinstance(target, type) and getattr(target._meta, "concrete_model", None) is None:
            _unprepared.add(target)  # still being built: track it once class_prepared fires
            continue
        model = _model(target)
        if model in _tracked:
            continue
        _tracked.add(model)
        # Per sender: a post_delete receiver turns off Django's fast delete, so only
        # tracked models (and their proxies) pay for it.
        post_delete.connect(_on_delete, sender=model, weak=False, dispatch_uid=f"httpcache:{label(model)}")
        if apps.ready:
            _connect_proxies(model)


def _connect_proxies(model: type[models.Model]) -> None:
    for candidate in apps.get_models():
        if candidate is not model and candidate._meta.concrete_model is model:
            uid = f"httpcache:{label(candidate)}"
            post_delete.connect(_on_delete, sender=candidate, weak=False, dispatch_uid=uid)


def _on_class_prepared(sender: type[models.Model], **kwargs: Any) -> None:
    if sender in _unprepared:
        _unprepared.discard(sender)
        track(sender)
    elif (
        not sender._meta.abstract
        and not sender._meta.proxy
        and sender not in _tracked
        # Managers inherited from an abstract base are copied without contribute_to_class.
        and any(isinstance(m, VersionedManager) for m in sender._meta.managers)
    ):
        track(sender)


class_prepared.connect(_on_class_prepared, weak=False, dispatch_uid="httpcache:class_prepared")


def connect_signals() -> None:
    """Called from AppConfig.ready()."""
    pre_save.connect(_on_pre_save, weak=False, dispatch_uid="httpcache:pre_save")
    post_save.connect(_on_save, weak=False, dispatch_uid="httpcache:post_save")
    pre_delete.connect(_on_pre_delete, weak=False, dispatch_uid="httpcache:pre_delete")
    m2m_changed.connect(_on_m2m, weak=False, dispatch_uid="httpcache:m2m_changed")
    for model in list(_tracked):
        _connect_proxies(model)


def is_tracked(model: type[models.Model]) -> bool:
    return concrete(model) in _tracked


def tracked_models() -> frozenset[type[models.Model]]:
    return frozenset(_tracked)


def _model(target: ModelOrInstance | str) -> type[models.Model]:
    if isinstance(target, str):
        target = apps.get_model(target)
    if isinstance(target, models.Model):
        target = type(target)
    return concrete(target)


def concrete(model: type[models.Model]) -> type[models.Model]:
    """The concrete model behind a proxy (and the model itself otherwise)."""
    return model._meta.concrete_model or model


def label(model: type[models.Model]) -> str:
    return model._meta.label_lower


def row_fields(model: type[models.Model]) -> tuple[models.Field[Any, Any] | None, models.Field[Any, Any] | None]:
    """The configured version (integer) and updated-at (datetime) fields, if the model has them."""
    version = _field(model, conf.VERSION_FIELD, (models.IntegerField,))
    updated = _field(model, conf.UPDATED_FIELD, (models.DateTimeField,))
    return version, updated


def _field(model: type[models.Model], name: str | None, kinds: tuple[type, ...]) -> models.Field[Any, Any] | None:
    if not name:
        return None
    try:
        field = model._meta.get_field(name)
    except Exception:
        return None
    return field if isinstance(field, kinds) else None  # type: ignore[return-value]


# -- recording a change -----------------------------------------------------------------


def bump(*targets: ModelOrInstance | str, using: str | None = None) -> None:
    """Record a change made behind the ORM's back (raw SQL, another program).

    A model marks its collections changed; an instance also moves its row's version
    fields (and the in-memory instance), so its own validators change. Call it inside
    the transaction that made the change: the touch is written there (and rolled back
    with it); the stamp and the version store move when it commits.
    """
    instances: dict[type[models.Model], list[models.Model]] = {}
    for target in targets:
        model = _model(target)
        instances.setdefault(model, [])
        if isinstance(target, models.Model):
            instances[model].append(target)
    for model, objs in instances.items():
        db = using or router.db_for_write(model)
        if objs:
            values = touch(model, [obj.pk for obj in objs], db)
            for obj in objs:
                _refresh_in_memory(obj, values)
        _record_on_commit(model, db)


def _stamp(model: type[models.Model], using: str) -> None:
    from .models import ModelStamp

    now = timezone.now()
    key = label(model)
    stamps = ModelStamp.objects.using(using)
    if stamps.filter(label=key).update(serial=F("serial") + 1, changed_at=now):
        return
    try:
        with transaction.atomic(using=using):
            stamps.create(label=key, serial=1, changed_at=now)
    except IntegrityError:  # created by a concurrent transaction in the meantime
        stamps.filter(label=key).update(serial=F("serial") + 1, changed_at=now)


def _record_on_commit(model: type[models.Model], using: str) -> None:
    """Record, once the transaction commits, that ``model`` changed.

    After the commit, once per model: the stamp moves again (so a transaction that
    saved early but commits late still changes collection tags and Last-Modified,
    which cannot rely on MAX(updated_at) alone), and the model's token in the version
    store is replaced. Django runs on_commit callbacks right after COMMIT, before the
    writer's response leaves: a request that starts after a write was acknowledged
    sees its effect; requests concurrent with it may see either, as any read
    concurrent with a write may. A rolled-back change is not recorded by its rollback;
    it may be recorded with the connection's next commit, which only costs a 200.
    """
    connection = transaction.get_connection(using)
    connection.__dict__.setdefault("_httpcache_changed", set()).add(model)
    if connection.in_atomic_block:
        # Every change registers a callback; the first to run records all the changes
        # of the connection, the others find nothing left.
        transaction.on_commit(partial(_record_changes, using), using=using)
    else:  # autocommit: the change is already committed
        _record_changes(using)


def _record_changes(using: str) -> None:
    changed = transaction.get_connection(using).__dict__.get("_httpcache_changed")
    if not changed:
        return
    done = list(changed)
    changed.clear()
    for model in done:
        try:
            _stamp(model, using)
        except Exception:  # the commit happened: record what can still be recorded
            logger.exception("Could not move the stamp of %s after a commit.", label(model))
    store = writable_store()
    if store is not None:
        store.bump(label(model) for model in done)


def touch(
    model: type[models.Model], pks: Iterable[Any], using: str, only: Sequence[models.Field[Any, Any]] | None = None
) -> dict[str, Any]:
    """Move the version fields (or ``only`` these) of rows whose representation changed."""
    version, updated = row_fields(model)
    values: dict[str, Any] = {}
    if version is not None and (only is None or version in only):
        values[version.name] = F(version.name) + 1
    if updated is not None and (only is None or updated in only):
        values[updated.name] = timezone.now()
    pks = list(pks)
    if values and pks:
        # A plain QuerySet: the versioned one would bump again.
        models.QuerySet(model=model, using=using).filter(pk__in=pks).update(**values)
    return values


@contextmanager
def _bulk(model: type[models.Model]) -> Iterator[None]:
    """Per-object signals inside are covered by one bump afterwards."""
    active = _local.__dict__.setdefault("bulk", [])
    active.append(model)
    try:
        yield
    finally:
        active.remove(model)


def _in_bulk(model: type[models.Model]) -> bool:
    return model in getattr(_local, "bulk", ())


def _on_pre_save(sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    """Every save of a tracked model moves its version field (HTTPCACHE['VERSION_FIELD'])."""
    if raw or concrete(sender) not in _tracked:
        return
    version, _ = row_fields(concrete(sender))
    if version is not None:
        setattr(instance, version.attname, (getattr(instance, version.attname) or 0) + 1)


def _on_save(
    sender: type[models.Model],
    instance: models.Model,
    using: str,
    update_fields: frozenset[str] | None = None,
    raw: bool = False,
    **kwargs: Any,
) -> None:
    model = concrete(sender)
    if model not in _tracked or _in_bulk(model):
        return
    if update_fields is not None:
        # save(update_fields=[...]) leaving version fields out: move those anyway (the
        # version was already moved in memory by pre_save).
        missing = [f for f in row_fields(model) if f is not None and f.name not in update_fields]
        values = touch(model, [instance.pk], using, only=missing) if missing else {}
        for name, value in values.items():
            if not hasattr(value, "resolve_expression"):
                setattr(instance, name, value)
    _record_on_commit(model, using)


def _on_pre_delete(sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    """Rows that on_delete=SET_NULL/SET_DEFAULT/SET() will change without a signal."""
    if not _tracked:
        return
    referring = []
    for relation in sender._meta.related_objects:
        on_delete = getattr(relation, "on_delete", None)
        related = concrete(cast("type[models.Model]", relation.related_model))
        if related not in _tracked or on_delete in (models.CASCADE, models.PROTECT, models.RESTRICT, models.DO_NOTHING):
            continue
        if relation.many_to_many or not hasattr(relation, "field"):
            continue
        rows = related._base_manager.using(using).filter(**{relation.field.name: instance})
        referring.append((related, list(rows.values_list("pk", flat=True))))
    if referring:
        instance._httpcache_referring = referring  # type: ignore[attr-defined]


def _on_delete(sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    for related, pks in instance.__dict__.pop("_httpcache_referring", ()):
        if pks:
            touch(related, pks, using)
            _record_on_commit(related, using)
    model = concrete(sender)
    if model not in _tracked or _in_bulk(model):
        return
    _record_on_commit(model, using)  # a delete leaves no timestamp: the stamp moves


def _m2m_names(
    through: type[models.Model], instance_model: type[models.Model], other: type[models.Model], reverse: bool
) -> tuple[str, str] | None:
    owner = other if reverse else instance_model
    for field in owner._meta.many_to_many:
        if field.remote_field.through is through:
            source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
            return (target, source) if reverse else (source, target)
    return None


def _on_m2m(
    sender: type[models.Model],
    instance: models.Model,
    action: str,
    reverse: bool,
    model: type[models.Model],
    pk_set: set[Any] | None,
    using: str,
    **kwargs: Any,
) -> None:
    this, other = concrete(type(instance)), concrete(model)
    if this not in _tracked and other not in _tracked:
        return
    if action == "pre_clear":
        names = _m2m_names(sender, this, other, reverse) if other in _tracked else None
        if names is not None:
            source, target = names
            rows = sender._base_manager.using(using).filter(**{source: instance.pk})
            instance._httpcache_cleared = list(rows.values_list(target, flat=True))  # type: ignore[attr-defined]
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action == "post_clear":
        pk_set = set(instance.__dict__.pop("_httpcache_cleared", ()))
    elif not pk_set:
        return
    if this in _tracked:
        values = touch(this, [instance.pk], using)
        _refresh_in_memory(instance, values)
        _record_on_commit(this, using)
    if other in _tracked:
        touch(other, pk_set or (), using)
        _record_on_commit(other, using)


def _refresh_in_memory(instance: models.Model, values: dict[str, Any]) -> None:
    """Keep the instance's version in step with its row, so a later save() does not
    write an old version number back."""
    for name, value in values.items():
        if hasattr(value, "resolve_expression"):  # F(version) + 1
            current = getattr(instance, name, None)
            setattr(instance, name, (current or 0) + 1)
        else:
            setattr(instance, name, value)


# -- the versioned QuerySet -----------------------------------------------------------------


class VersionedQuerySet(models.QuerySet):  # type: ignore[type-arg]
    """A QuerySet whose bulk writes record a change like save() and delete() do.

    ``update()`` and ``bulk_update()`` also move the version fields of the rows, so
    their instance ETags change.
    """

    def update(self, **kwargs: Any) -> int:
        version, updated = row_fields(self.model)
        if version is not None and version.name not in kwargs:
            kwargs[version.name] = F(version.name) + 1
        if updated is not None and updated.name not in kwargs:
            kwargs[updated.name] = timezone.now()
        rows = super().update(**kwargs)
        if rows and not _in_bulk(concrete(self.model)):
            bump(self.model, using=self.db)
        return rows

    update.alters_data = True  # type: ignore[attr-defined]

    def touch(self) -> int:
        """Record a change to these rows, e.g. after raw SQL: their version fields move
        (or, for a model without any, the model's version)."""
        if row_fields(self.model) != (None, None):
            return self.update()
        rows = self.count()
        if rows:
            bump(self.model, using=self.db)
        return rows

    touch.alters_data = True  # type: ignore[attr-defined]

    def bulk_update(self, objs: Iterable[models.Model], fields: Iterable[str], batch_size: int | None = None) -> int:
        objs, fields = list(objs), list(fields)
        version, updated = row_fields(self.model)
        now = timezone.now()
        for obj in objs:
            if version is not None:
                setattr(obj, version.attname, (getattr(obj, version.attname) or 0) + 1)
            if updated is not None:
                setattr(obj, updated.attname, now)
        extra = [f.name for f in (version, updated) if f is not None and f.name not in fields]
        with _bulk(concrete(self.model)):  # its per-batch update()s
            rows = super().bulk_update(objs, fields + extra, batch_size=batch_size)
        if rows:
            bump(self.model, using=self.db)
        return rows

    bulk_update.alters_data = True  # type: ignore[attr-defined]

    def bulk_create(self, objs: Iterable[models.Model], *args: Any, **kwargs: Any) -> list[models.Model]:
        created = super().bulk_create(objs, *args, **kwargs)
        if created:
            bump(self.model, using=self.db)
        return created

    bulk_create.alters_data = True  # type: ignore[attr-defined]

    def delete(self) -> tuple[int, dict[str, int]]:
        with _bulk(concrete(self.model)):
            deleted, per_model = super().delete()
        if deleted:
            bump(self.model, using=self.db)
        return deleted, per_model

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]


class VersionedManager(models.Manager.from_queryset(VersionedQuerySet)):  # type: ignore[misc]
    """``objects = VersionedManager()``: tracks the model and versions its bulk writes."""

    def contribute_to_class(self, cls: type[models.Model], name: str) -> None:
        super().contribute_to_class(cls, name)
        if not cls._meta.abstract and not cls._meta.proxy:
            track(cls)


# -- the counter store ----------------------------------------------------------------------

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
        try:
            self._write(pending)
        except Exception:
            with self._lock:
                self._pending |= pending
            raise
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
        return frozenset(self._pending)


_stores: dict[str, CounterStore] = {}
_refused: set[str] = set()
_UNDECIDED = object()
_current: Any = _UNDECIDED  # counter_store()'s answer until a setting changes
_writable: Any = _UNDECIDED  # writable_store()'s


def is_per_process(alias: str) -> bool:
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    return backend in PER_PROCESS_BACKENDS


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


def _shared_store(*, log: bool) -> CounterStore | None:
    alias = conf.VERSION_CACHE
    problem = None
    if alias not in settings.CACHES:
        problem = f"HTTPCACHE['VERSION_CACHE'] = {alias!r} is not in CACHES"
    elif is_per_process(alias) and not settings.DEBUG:
        problem = f"CACHES[{alias!r}] is per-process and cannot be shared by worker processes"
    if problem is not None:
        if log and alias not in _refused:
            _refused.add(alias)
            logger.error("Counter mode refused: %s; using aggregate mode (see manage.py check).", problem)
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
