from django.db import models
from django.utils import translation

from django_httpcache.versions import VersionedManager


class Category(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(unique=True)

    objects = VersionedManager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)
    slug = models.SlugField(unique=True)

    objects = VersionedManager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    # French text, shown when French is the active language; blank: the English one.
    name_fr = models.CharField(max_length=200, blank=True)
    description_fr = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    category = models.ForeignKey(Category, related_name="products", on_delete=models.PROTECT)
    tags = models.ManyToManyField(Tag, related_name="products", blank=True)
    # HTTPCACHE["VERSION_FIELD"]: moved by every write (save, update(), m2m...).
    version = models.PositiveIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    # Versioned: queryset update(), bulk_create() & co. change validators too.
    objects = VersionedManager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    def localized(self, field: str) -> str:
        """``field`` in the active language: ``<field>_fr`` in French when it is set."""
        if translation.get_language() == "fr":
            return getattr(self, f"{field}_fr") or getattr(self, field)
        return getattr(self, field)

    @property
    def local_name(self) -> str:
        return self.localized("name")

    @property
    def local_description(self) -> str:
        return self.localized("description")
