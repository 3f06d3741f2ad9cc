"""Model versions: what changes when the data behind a representation changes (R24).

A change to a *tracked* model moves, once its transaction has committed:

- the model's **stamp** (a ``ModelStamp`` row), which aggregate-mode validators read
  beside COUNT and MAX(updated_at): it sees what they cannot (a delete, raw SQL, a
  model without version fields, a transaction that saved early and commits late);
- the model's **token** in the version store (a Django cache alias shared by every
  process), which counter-mode validators read instead of the database.

A rolled-back change moves neither. Rows move too: a save, update(), bulk_update()
or m2m change moves the row's version field and updated-at, for instance validators.

The modules: ``registry`` (which models are tracked, their version fields),
``recording`` (signals, ``bump()``, after-commit recording), ``managers`` (the versioned
QuerySet), ``store`` (the counter store) and ``aggregate`` (reading the versions of
whole models in either mode).
"""

from __future__ import annotations

from . import aggregate, managers, recording, registry, store
from .aggregate import model_versions
from .managers import VersionedManager, VersionedQuerySet
from .recording import bump, connect_signals, touch
from .registry import _model, _tracked, concrete, is_tracked, label, model_of, row_fields, track, tracked_models
from .store import (
    PER_PROCESS_BACKENDS,
    CounterStore,
    StoreError,
    counter_store,
    is_per_process,
    new_token,
    reset_stores,
    store_problem,
    token_time,
    writable_store,
)

__all__ = [
    "PER_PROCESS_BACKENDS",
    "CounterStore",
    "StoreError",
    "VersionedManager",
    "VersionedQuerySet",
    "_model",
    "_tracked",
    "aggregate",
    "bump",
    "concrete",
    "connect_signals",
    "counter_store",
    "is_per_process",
    "is_tracked",
    "label",
    "managers",
    "model_of",
    "model_versions",
    "new_token",
    "recording",
    "registry",
    "reset_stores",
    "row_fields",
    "store",
    "store_problem",
    "token_time",
    "touch",
    "track",
    "tracked_models",
    "writable_store",
]
