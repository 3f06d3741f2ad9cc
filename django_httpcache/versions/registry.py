"""Tracked models: which models record their changes, and their version fields."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models.signals import class_prepared

from ..conf import conf

__all__ = [
    "concrete",
    "is_tracked",
    "label",
    "model_of",
    "on_track",
    "row_fields",
    "track",
    "tracked_models",
    "tracking_generation",
]

ModelOrInstance = type[models.Model] | models.Model

_tracked: set[type[models.Model]] = set()
_unprepared: set[type[models.Model]] = set()
_listeners: list[Callable[[type[models.Model]], None]] = []
_generation = 0


def track(*targets: ModelOrInstance | str) -> None:
    """Record changes to these models (classes, instances or "app_label.Model")."""
    global _generation
    for target in targets:
        if isinstance(target, type) and getattr(target._meta, "concrete_model", None) is None:
            _unprepared.add(target)  # still being built: track it once class_prepared fires
            continue
        model = model_of(target)
        if model in _tracked:
            continue
        _tracked.add(model)
        _generation += 1
        for listener in _listeners:
            listener(model)


def on_track(listener: Callable[[type[models.Model]], None]) -> None:
    """Call ``listener(model)`` for every tracked model, now and as models get tracked."""
    _listeners.append(listener)
    for model in list(_tracked):
        listener(model)


def _on_class_prepared(sender: type[models.Model], **kwargs: Any) -> None:
    if sender in _unprepared:
        _unprepared.discard(sender)
        track(sender)


class_prepared.connect(_on_class_prepared, weak=False, dispatch_uid="httpcache:class_prepared")


def is_tracked(model: type[models.Model]) -> bool:
    return concrete(model) in _tracked


def tracking_generation() -> tuple[int, int, int]:
    """Changes whenever the set of tracked models does (for memos of what is tracked)."""
    return _generation, id(_tracked), len(_tracked)


def tracked_models() -> frozenset[type[models.Model]]:
    return frozenset(_tracked)


def model_of(target: ModelOrInstance | str) -> type[models.Model]:
    """The concrete model of a model class, an instance or an "app_label.Model" string."""
    if isinstance(target, str):
        target = apps.get_model(target)
    if isinstance(target, models.Model):
        target = type(target)
    return concrete(target)


_model = model_of


def concrete(model: type[models.Model]) -> type[models.Model]:
    """The concrete model behind a proxy (and the model itself otherwise)."""
    return model._meta.concrete_model or model


_labels: dict[type[models.Model], str] = {}


def label(model: type[models.Model]) -> str:
    # Options.label_lower formats a string per call; a model's label never changes.
    found = _labels.get(model)
    if found is None:
        found = _labels[model] = model._meta.label_lower
    return found


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
    # A primary key is never a version: moving it would rewrite the row's identity
    # (the system check says httpcache.E023).
    if not isinstance(field, kinds) or getattr(field, "primary_key", False):
        return None
    return field  # type: ignore[return-value]
