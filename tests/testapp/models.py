from __future__ import annotations

from django.db import models

from django_httpcache.versions import VersionedManager


class Tag(models.Model):
    """No version fields: its changes move the model stamp."""

    name = models.CharField(max_length=50, unique=True)

    objects = VersionedManager()

    def __str__(self) -> str:
        return self.name


class Article(models.Model):
    title = models.CharField(max_length=100)
    body = models.TextField(blank=True)
    owner = models.ForeignKey("auth.User", null=True, blank=True, on_delete=models.SET_NULL)
    tags = models.ManyToManyField(Tag, related_name="articles", blank=True)
    featured = models.ForeignKey(Tag, null=True, blank=True, related_name="featured_in", on_delete=models.SET_NULL)
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    objects = VersionedManager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class ArticleProxy(Article):
    class Meta:
        proxy = True


class Note(models.Model):
    """Not tracked."""

    text = models.CharField(max_length=100)
    updated_at = models.DateTimeField(auto_now=True)


class VersionedBase(models.Model):
    """Managers inherited from an abstract base are copied without contribute_to_class."""

    updated_at = models.DateTimeField(auto_now=True)

    objects = VersionedManager()

    class Meta:
        abstract = True


class Inherited(VersionedBase):
    name = models.CharField(max_length=20)
