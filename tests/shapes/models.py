"""Model shapes the rest of the suite does not have, for the "never wrong" regression tests."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from django_httpcache.versions import VersionedManager


class Author(models.Model):
    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VersionedManager()


class Label(models.Model):
    """No version fields."""

    name = models.CharField(max_length=50)

    objects = VersionedManager()

    class Meta:
        ordering = ["id"]


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, related_name="books", on_delete=models.CASCADE)
    labels = models.ManyToManyField(Label, related_name="books", blank=True)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VersionedManager()

    class Meta:
        ordering = ["id"]


class Counted(models.Model):
    """A version field and no updated_at."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField(default=0)

    objects = VersionedManager()


class Stamped(models.Model):
    """An updated_at that save() does not move (no auto_now), and no version field."""

    name = models.CharField(max_length=100)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = VersionedManager()


class Place(models.Model):
    """No version fields; parent of a multi-table child."""

    name = models.CharField(max_length=100)

    objects = VersionedManager()

    class Meta:
        ordering = ["id"]


class Restaurant(Place):
    serves = models.CharField(max_length=100, blank=True)

    objects = VersionedManager()


class Sku(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VersionedManager()
