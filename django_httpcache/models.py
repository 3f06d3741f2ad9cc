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
