"""Seed the demo catalog: categories, tags, products and the user ``demo``.

Idempotent: what exists is left alone (versions do not move), what is missing is
created, so running it twice gives the same data. Seeded rows carry a fixed
``updated_at`` in the past, so Last-Modified is settled from the start. Products have a
French name and description too (``name_fr``, ``description_fr``), shown in French.
"""

import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from catalog.models import Category, Product, Tag
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
TAGS = [
    ("new", "new"),
    ("sale", "sale"),
    ("eco", "eco"),
    ("gift", "gift"),
    ("bestseller", "bestseller"),
    ("limited", "limited"),
]
DEMO_USER, DEMO_PASSWORD = "demo", "demo-password"
SEEDED_AT = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


def tag_slugs(number: int) -> list[str]:
    """Product ``number``'s tags: 0, 1 or 2 of TAGS, always the same ones."""
    return [TAGS[(number + i) % len(TAGS)][1] for i in range(number % 3)]


def french(number: int) -> dict[str, str]:
    """The French name and description of seeded product ``number``."""
    return {"name_fr": f"Produit {number}", "description_fr": f"Produit de démonstration numéro {number}."}


class Command(BaseCommand):
    help = "Create demo categories, tags, products and the user 'demo' (idempotent)."

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

        existing_tags = set(Tag._base_manager.values_list("slug", flat=True))
        new_tags = [Tag(name=n, slug=s) for n, s in TAGS if s not in existing_tags]
        Tag._base_manager.bulk_create(new_tags)
        tags = dict(Tag._base_manager.filter(slug__in=[s for _, s in TAGS]).values_list("slug", "id"))

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
                        **french(number),
                        price=Decimal(number % 500) + Decimal("0.99"),
                        category=categories[number % len(categories)],
                        version=1,
                    )
                )
        Product._base_manager.bulk_create(missing, batch_size=1000)
        Product._base_manager.filter(slug__in=[p.slug for p in missing]).update(updated_at=SEEDED_AT)
        translated = self.translate_older_products()

        # Tag links: a new product gets its tags, and so does an older product for a tag
        # created just now (a catalog seeded before tags existed); nothing else moves.
        created_tags = {tag.slug for tag in new_tags}
        created_products = {p.slug for p in missing}
        product_ids = dict(
            Product._base_manager.filter(slug__in=[f"product-{n:05d}" for n in range(1, products + 1)]).values_list(
                "slug", "id"
            )
        )
        Link = Product.tags.through
        links = [
            Link(product_id=product_ids[slug], tag_id=tags[tag])
            for number in range(1, products + 1)
            if (slug := f"product-{number:05d}") in product_ids
            for tag in tag_slugs(number)
            if slug in created_products or tag in created_tags
        ]
        Link._base_manager.bulk_create(links, ignore_conflicts=True, batch_size=1000)
        if had_data and (missing or new_categories or new_tags or links or translated):
            bump(Product, Category, Tag)

        User = get_user_model()
        user, created = User.objects.get_or_create(username=DEMO_USER)
        if created or not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save()
        self.stdout.write(
            f"Seeded {len(new_categories)} new categories, {len(new_tags)} new tags, {len(missing)} new products "
            f"({Product._base_manager.count()} in all), user {DEMO_USER!r}."
        )

    def translate_older_products(self) -> int:
        """French text for products seeded before it existed (blank ``name_fr``), through the
        versioned manager: their pages change, so their versions must move."""
        older = list(Product._base_manager.filter(slug__startswith="product-", name_fr=""))
        for product in older:
            for field, value in french(int(product.slug.removeprefix("product-"))).items():
                setattr(product, field, value)
        Product.objects.bulk_update(older, ["name_fr", "description_fr"], batch_size=1000)
        return len(older)
