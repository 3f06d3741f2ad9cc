"""Recording a change: the rows' version fields at once, the model's stamp and store
token once the transaction commits (R24).

Changes are noticed by signals (post_save, post_delete, m2m_changed), by the versioned
QuerySet's bulk methods (``managers``), and by ``bump()`` for anything else (raw SQL).
A rolled-back change moves neither the stamp nor the token.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, cast

from django.apps import apps
from django.db import IntegrityError, models, router, transaction
from django.db.models import F
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import Signal
from django.utils import timezone

from . import registry, store
from .registry import ModelOrInstance, concrete, label, model_of, on_track, row_fields

__all__ = ["bump", "connect_signals", "touch"]

logger = logging.getLogger("django_httpcache")

_local = threading.local()  # models whose per-object signals a bulk operation covers

#: Sent inside the transaction for each recorded change: ``sender`` the concrete model,
#: ``using``, ``pks`` (the changed rows; None for a bulk change). Receivers acting after
#: commit register on_commit callbacks, which a rollback drops (cdn.purge does, R28).
change_noted = Signal()


def _connect_delete(model: type[models.Model]) -> None:
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


def connect_signals() -> None:
    """Called from AppConfig.ready()."""
    pre_save.connect(_on_pre_save, weak=False, dispatch_uid="httpcache:pre_save")
    post_save.connect(_on_save, weak=False, dispatch_uid="httpcache:post_save")
    pre_delete.connect(_on_pre_delete, weak=False, dispatch_uid="httpcache:pre_delete")
    m2m_changed.connect(_on_m2m, weak=False, dispatch_uid="httpcache:m2m_changed")
    for model in registry.tracked_models():
        _connect_proxies(model)


def bump(*targets: ModelOrInstance | str, using: str | None = None) -> None:
    """Record a change made behind the ORM's back (raw SQL, another program).

    A model marks its collections changed; an instance also moves its row's version
    fields (and the in-memory instance), so its own validators change. Call it inside
    the transaction that made the change: the touch is written there (and rolled back
    with it); the stamp and the version store move when it commits.
    """
    instances: dict[type[models.Model], list[models.Model]] = {}
    for target in targets:
        model = model_of(target)
        instances.setdefault(model, [])
        if isinstance(target, models.Model):
            instances[model].append(target)
    for model, objs in instances.items():
        db = using or router.db_for_write(model)
        if objs:
            values = touch(model, [obj.pk for obj in objs], db)
            for obj in objs:
                _refresh_in_memory(obj, values)
        _record_on_commit(model, db, [obj.pk for obj in objs] or None)


def _stamp(model: type[models.Model], using: str) -> None:
    from ..models import ModelStamp

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


def _record_on_commit(model: type[models.Model], using: str, pks: Iterable[Any] | None = None) -> None:
    """Record, once the transaction commits, that ``model`` (and every concrete model
    it inherits from: their rows changed too, R24) changed.

    After the commit, once per model: the stamp moves again (so a transaction that
    saved early but commits late still changes collection tags and Last-Modified,
    which cannot rely on MAX(updated_at) alone), and the model's token in the version
    store is replaced. Django runs on_commit callbacks right after COMMIT, before the
    writer's response leaves: a request that starts after a write was acknowledged
    sees its effect; requests concurrent with it may see either, as any read
    concurrent with a write may. A rolled-back change is not recorded by its rollback;
    it may be recorded with the connection's next commit, which only costs a 200.
    """
    change_noted.send(model, using=using, pks=pks)
    connection = transaction.get_connection(using)
    changed = connection.__dict__.setdefault("_httpcache_changed", set())
    changed.add(model)
    changed.update(concrete(parent) for parent in model._meta.get_parent_list())
    if connection.in_atomic_block:
        # Every change registers a callback; the first to run records all the changes
        # of the connection, the others find nothing left. It goes first in the queue
        # and is robust: an application callback that raises before it would otherwise
        # leave the change unrecorded until the connection's next commit.
        transaction.on_commit(partial(_record_changes, using), using=using, robust=True)
        hooks = connection.run_on_commit
        hooks.insert(0, hooks.pop())
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
    writable = store.writable_store()
    if writable is not None:
        writable.bump(label(model) for model in done)


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
def bulk(model: type[models.Model]) -> Iterator[None]:
    """Per-object signals inside are covered by one bump afterwards."""
    active = _local.__dict__.setdefault("bulk", [])
    active.append(model)
    try:
        yield
    finally:
        active.remove(model)


def in_bulk(model: type[models.Model]) -> bool:
    return model in getattr(_local, "bulk", ())


def _on_pre_save(sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    """Every save of a tracked model moves its version fields: the version
    (HTTPCACHE['VERSION_FIELD']) and the updated-at (HTTPCACHE['UPDATED_FIELD']), even
    one declared without ``auto_now`` (a ``default=timezone.now`` would never move)."""
    if raw or concrete(sender) not in registry._tracked:
        return
    version, updated = row_fields(concrete(sender))
    if version is not None:
        setattr(instance, version.attname, (getattr(instance, version.attname) or 0) + 1)
    if updated is not None and not getattr(updated, "auto_now", False):
        setattr(instance, updated.attname, timezone.now())


def _on_save(
    sender: type[models.Model],
    instance: models.Model,
    using: str,
    update_fields: frozenset[str] | None = None,
    raw: bool = False,
    **kwargs: Any,
) -> None:
    model = concrete(sender)
    if model not in registry._tracked or in_bulk(model):
        return
    if update_fields is not None:
        # save(update_fields=[...]) leaving version fields out: move those anyway (the
        # version was already moved in memory by pre_save).
        missing = [f for f in row_fields(model) if f is not None and f.name not in update_fields]
        values = touch(model, [instance.pk], using, only=missing) if missing else {}
        for name, value in values.items():
            if not hasattr(value, "resolve_expression"):
                setattr(instance, name, value)
    _record_on_commit(model, using, [instance.pk])


def _on_pre_delete(sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    """Rows that on_delete=SET_NULL/SET_DEFAULT/SET() will change without a signal."""
    if not registry._tracked:
        return
    referring = []
    for relation in sender._meta.related_objects:
        on_delete = getattr(relation, "on_delete", None)
        related = concrete(cast("type[models.Model]", relation.related_model))
        if related not in registry._tracked or on_delete in (
            models.CASCADE,
            models.PROTECT,
            models.RESTRICT,
            models.DO_NOTHING,
        ):
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
            _record_on_commit(related, using, pks)
    model = concrete(sender)
    if model not in registry._tracked or in_bulk(model):
        return
    _record_on_commit(model, using, [instance.pk])  # a delete leaves no timestamp: the stamp moves


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
    if this not in registry._tracked and other not in registry._tracked:
        return
    if action == "pre_clear":
        names = _m2m_names(sender, this, other, reverse) if other in registry._tracked else None
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
    if this in registry._tracked:
        values = touch(this, [instance.pk], using)
        _refresh_in_memory(instance, values)
        _record_on_commit(this, using, [instance.pk])
    if other in registry._tracked:
        touch(other, pk_set or (), using)
        _record_on_commit(other, using, pk_set)


def _refresh_in_memory(instance: models.Model, values: dict[str, Any]) -> None:
    """Keep the instance's version in step with its row, so a later save() does not
    write an old version number back."""
    for name, value in values.items():
        if hasattr(value, "resolve_expression"):  # F(version) + 1
            current = getattr(instance, name, None)
            setattr(instance, name, (current or 0) + 1)
        else:
            setattr(instance, name, value)


on_track(_connect_delete)
