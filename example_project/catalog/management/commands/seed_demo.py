"""Seed the demo catalog: categories, products and the user ``demo``.

Idempotent: what exists is left alone (versions do not move), what is missing is
created, so running it twice gives the same data. Seeded rows carry a fixed
``updated_at`` in the past, so Last-Modified is settled from the start.
"""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from catalog.models import Category, Product
from django_httpcache.versions import bump

CATEGORIES = [
    ("Books", "books"),
    ("Music", "music"),
    ("Garden", "garden"),
    ("Kitchen", "kitchen"),
    ("Toys", "toys"),
    ("Tools", "tools"),
    ("Sports", "sports"),
    ("Office", "office"),
]
DEMO_USER, DEMO_PASSWORD = "demo", "demo-password"
SEEDED_AT = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


class Command(BaseCommand):
    help = "Create demo categories, products and the user 'demo' (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=200, help="number of products (default 200)")

    @transaction.atomic
    def handle(self, *args, products: int, **options):
        # Plain managers: a fresh catalog has no readers to invalidate. When rows are
        # added to a catalog someone may have fetched, bump() records the change.
        had_data = Product._base_manager.exists()
        existing_categories = set(Category._base_manager.values_list("slug", flat=True))
        new_categories = [Category(name=n, slug=s) for n, s in CATEGORIES if s not in existing_categories]
        Category._base_manager.bulk_create(new_categories)
        categories = list(Category._base_manager.filter(slug__in=[s for _, s in CATEGORIES]).order_by("id"))

        existing = set(Product._base_manager.values_list("slug", flat=True))
        missing = []
        for number in range(1, products + 1):
            slug = f"product-{number:05d}"
            if slug not in existing:
                missing.append(
                    Product(
                        name=f"Product {number}",
                        slug=slug,
                        description=f"Demo product number {number}.",
                        price=Decimal(number % 500) + Decimal("0.99"),
                        category=categories[number % len(categories)],
                        version=1,
                    )
                )
        Product._base_manager.bulk_create(missing, batch_size=1000)
        Product._base_manager.filter(slug__in=[p.slug for p in missing]).update(updated_at=SEEDED_AT)
        if had_data and (missing or new_categories):
            bump(Product, Category)

        User = get_user_model()
        user, created = User.objects.get_or_create(username=DEMO_USER)
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save()
        self.stdout.write(
            f"Seeded {len(new_categories)} new categories, {len(missing)} new products "
            f"({Product._base_manager.count()} in all), user {DEMO_USER!r}."
        )
