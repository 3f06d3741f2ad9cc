"""Seed the demo catalog: categories, products and the user ``demo``.

Idempotent: what exists is left alone (versions do not move), what is missing is
created, so running it twice gives the same data.
"""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from catalog.models import Category, Product

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


class Command(BaseCommand):
    help = "Create demo categories, products and the user 'demo' (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=200, help="number of products (default 200)")

    @transaction.atomic
    def handle(self, *args, products: int, **options):
        categories = [Category.objects.get_or_create(slug=slug, defaults={"name": name})[0] for name, slug in CATEGORIES]
        existing = set(Product.objects.values_list("slug", flat=True))
        missing = []
        for number in range(1, products + 1):
            slug = f"product-{number:05d}"
            if slug in existing:
                continue
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
        Product.objects.bulk_create(missing, batch_size=1000)

        User = get_user_model()
        user, created = User.objects.get_or_create(username=DEMO_USER)
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save()
        self.stdout.write(
            f"Seeded {len(categories)} categories, {len(missing)} new products "
            f"({Product.objects.count()} in all), user {DEMO_USER!r}."
        )
