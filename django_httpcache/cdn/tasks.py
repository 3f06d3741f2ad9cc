"""The purge task, for Django's Tasks framework (``django.tasks``, or the ``django-tasks``
backport before Django 6). Importing this module fails without either: the caller then
purges from its own thread."""

from __future__ import annotations

import importlib
from typing import Any

from .backends import PurgeError
from .purge import purge_now, queue

__all__ = ["purge_keys_task"]


def _framework() -> Any:
    for name in ("django.tasks", "django_tasks"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    raise ImportError("Neither django.tasks (Django 6) nor django_tasks (pip install django-tasks) is installed.")


def purge_keys(keys: list[str]) -> None:
    """Purge ``keys``; what fails is retried by this worker's purge thread (R28)."""
    try:
        purge_now(keys)
    except PurgeError as exc:
        if exc.permanent:
            raise
        queue.put(keys)


purge_keys_task: Any = _framework().task()(purge_keys)
