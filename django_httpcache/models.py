from __future__ import annotations

from django.db import models


class ModelStamp(models.Model):
    """A per-model change marker, moved after each committed change of the model.

    Row aggregates (COUNT, MAX(updated_at)) cannot see some changes: a delete leaves no
    timestamp behind, raw SQL moves nothing, a model may have no version fields, and a
    transaction that saved early may commit after a later one was read. This row moves
    for all of them, so aggregate-mode validators still change (R24).
    """

    label = models.CharField(max_length=255, primary_key=True)
    serial = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = "model change stamp"

    def __str__(self) -> str:
        return f"{self.label} #{self.serial}"


class ObservedView(models.Model):
    """What a view was observed to read and vary on (``dependencies.known``), shared by
    every process: a worker that never rendered the view computes the same tag as the
    one that did."""

    view = models.CharField(max_length=255, primary_key=True)
    known = models.TextField(default="{}")  # JSON: labels, vary, observed_at

    class Meta:
        verbose_name = "observed view"

    def __str__(self) -> str:
        return self.view
