"""The versioned QuerySet and manager: bulk writes record a change like save() does."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import F
from django.db.models.signals import class_prepared
from django.utils import timezone

from . import registry
from .recording import bulk, bump, in_bulk, touch
from .registry import concrete, row_fields, track

__all__ = ["VersionedManager", "VersionedQuerySet"]


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
        if rows and not in_bulk(concrete(self.model)):
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
        with bulk(concrete(self.model)):  # its per-batch update()s
            rows = super().bulk_update(objs, fields + extra, batch_size=batch_size)
        if rows:
            bump(self.model, using=self.db)
        return rows

    bulk_update.alters_data = True  # type: ignore[attr-defined]

    def bulk_create(self, objs: Iterable[models.Model], *args: Any, **kwargs: Any) -> list[models.Model]:
        created = super().bulk_create(objs, *args, **kwargs)
        if created and kwargs.get("update_conflicts"):
            # An upsert changed existing rows in place: move their version fields too.
            self._touch_conflicting(created, kwargs.get("unique_fields") or ())
        if created:
            bump(self.model, using=self.db)
        return created

    def _touch_conflicting(self, objs: list[models.Model], unique_fields: Iterable[str]) -> None:
        names = list(unique_fields)
        if not names:  # MySQL/MariaDB: conflicts on any unique key; the pk is what is known
            names = [self.model._meta.pk.name]
        rows: models.QuerySet[Any] = models.QuerySet(model=self.model, using=self.db)
        fields = [self.model._meta.get_field(name) for name in names]
        keys = [tuple(getattr(obj, f.attname) for f in fields) for obj in objs]
        pks: list[Any] = []
        for start in range(0, len(keys), 500):
            match = models.Q()
            for key in keys[start : start + 500]:
                match |= models.Q(**{f.attname: value for f, value in zip(fields, key, strict=True)})
            pks += rows.filter(match).values_list("pk", flat=True)
        touch(self.model, pks, self.db)

    bulk_create.alters_data = True  # type: ignore[attr-defined]

    def delete(self) -> tuple[int, dict[str, int]]:
        with bulk(concrete(self.model)):
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


def _on_class_prepared(sender: type[models.Model], **kwargs: Any) -> None:
    if (
        not sender._meta.abstract
        and not sender._meta.proxy
        and sender not in registry._tracked
        # Managers inherited from an abstract base are copied without contribute_to_class.
        and any(isinstance(m, VersionedManager) for m in sender._meta.managers)
    ):
        track(sender)


class_prepared.connect(_on_class_prepared, weak=False, dispatch_uid="httpcache:class_prepared:managers")
