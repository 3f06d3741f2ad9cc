from django.db import models

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
