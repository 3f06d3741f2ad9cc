"""R24 and R26 under random histories over the shapes of issue 10 (tests/shapes).

The judge, clock and reads of tests/test_stateful.py, over views that declare no
dependencies: related renames shown through serializers and templates (an author by
save or queryset update, a label by save or through the M2M table), upserts, saves and
queryset updates of a multi-table child read through its parent's list, deletes and
re-creates under the same primary key, a version-only model (saved from fresh and from
stale copies), an updated_at without auto_now, and rolled-back transactions.
"""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import transaction
from hypothesis import strategies as st
from hypothesis.stateful import initialize, precondition, rule

from tests.shapes.models import Author, Book, Counted, Label, Place, Restaurant, Sku, Stamped
from tests.test_stateful import History, mode_settings, run_histories  # noqa: F401 (a fixture)

NAMES = ["a", "b", "c"]  # few, so that bodies come back to ones seen before (A-B-A)
LISTS = [
    "/shapes/dotted-books/",
    "/shapes/nested-books/",
    "/shapes/method-books/",
    "/shapes/book-list-page/",
    "/shapes/async-book-list-page/",
    "/shapes/places/",
    "/shapes/async-places/",
    "/shapes/skus/",
    "/shapes/counted/",
    "/shapes/label-list-page/",
]
DETAILS = {
    Book: [
        "/shapes/dotted-books/{}/",
        "/shapes/nested-books/{}/",
        "/shapes/method-books/{}/",
        "/shapes/book-page/{}/",
        "/shapes/async-book-page/{}/",
    ],
    Counted: ["/shapes/counted/{}/", "/shapes/counted-page/{}/"],
    Sku: ["/shapes/skus/{}/"],
    Stamped: ["/shapes/stamped-page/{}/"],
}
STATS: Counter[str] = Counter()
KINDS: Counter[str] = Counter()  # writes by kind, as a test property (the table stays narrow)
# "<model> <change>"; a queryset update goes through no save() and sends no signal, and
# Restaurant's name lives in Place's table (item 5).
WRITES = [
    *(
        f"{model} {change}"
        for model in ("author", "label", "book", "restaurant", "counted", "stamped")
        for change in ("save", "update")
    ),
    "place save",
    "book author",
    "book create",
    "book delete",
    "book recreate",
    "counted recreate",
    "stale counted save",
    "restaurant create",
    "sku upsert",
    "counted upsert",
    "m2m",
    "rollback",
]
MODELS = {"author": Author, "label": Label, "book": Book, "restaurant": Restaurant, "place": Place}
MODELS.update({"counted": Counted, "stamped": Stamped, "sku": Sku, "stale": Counted})


class ShapesHistory(History):
    stats = STATS

    def reset(self) -> None:
        for model in (Book, Author, Label, Restaurant, Place, Counted, Stamped, Sku):
            model._base_manager.all().delete()
        self.stale: list[Counted] = []  # copies loaded at some step, saved at a later one

    @initialize()
    def seed(self) -> None:
        authors = [Author.objects.create(name=name) for name in NAMES[:2]]
        labels = [Label.objects.create(name=name) for name in NAMES]
        for index in range(3):
            book = Book.objects.create(title=f"t{index}", author=authors[index % 2])
            book.labels.add(labels[index])
        Place.objects.create(name="park")
        Restaurant.objects.create(name="a", serves="soup")
        for index in range(2):
            Counted.objects.create(code=f"c{index}", name="a")
            Sku.objects.create(code=f"s{index}", name="a")
            Stamped.objects.create(name="a")
        self.wrote()

    def urls(self) -> list[str]:
        found = list(LISTS)
        for model, patterns in DETAILS.items():
            for pk in model._base_manager.order_by("pk").values_list("pk", flat=True)[:2]:
                found.extend(pattern.format(pk) for pattern in patterns)
        return found

    @staticmethod
    def one(data, model):
        pks = list(model._base_manager.order_by("pk").values_list("pk", flat=True))
        return model._base_manager.get(pk=data.draw(st.sampled_from(pks))) if pks else None

    # One rule for all writes, so that reads (several rules) are drawn more often.
    @rule(data=st.data(), kind=st.sampled_from(WRITES))
    def write(self, data, kind) -> None:
        name = data.draw(st.sampled_from(NAMES))
        if kind == "rollback":
            self.rolled_back(data, name)
        elif self.change(data, kind, name):
            KINDS[kind] += 1
            self.wrote()

    def change(self, data, kind: str, name: str) -> bool:
        """Make one committed change of ``kind``; False when there was nothing to change."""
        subject, _, change = kind.partition(" ")
        if change == "upsert":
            # Updates the row of an existing code, or inserts a new one (item 2).
            code = data.draw(st.sampled_from(["0", "1", "2"]))
            MODELS[subject].objects.bulk_create(
                [MODELS[subject](code=subject[0] + code, name=name)],
                update_conflicts=True,
                unique_fields=["code"],
                update_fields=["name"],
            )
            return True
        if kind == "restaurant create":
            Restaurant.objects.create(name=name, serves="tea")
            return True
        if kind == "book create":
            author = self.one(data, Author)
            if author is not None:
                Book.objects.create(title=name, author=author)
            return author is not None
        if kind == "m2m":
            book, label = self.one(data, Book), self.one(data, Label)
            if book is None or label is None:
                return False
            # From either end: the through table belongs to both.
            manager, other = (book.labels, label) if data.draw(st.booleans()) else (label.books, book)
            (manager.add if data.draw(st.booleans()) else manager.remove)(other)
            return True
        obj = self.one(data, MODELS[subject])
        if obj is None:
            return False
        if change == "update":
            return bool(type(obj).objects.filter(pk=obj.pk).update(**self.renamed(obj, name)))
        return self.change_object(data, kind, name, obj)

    def change_object(self, data, kind: str, name: str, obj) -> bool:
        if kind == "book delete":
            obj.delete()
        elif kind == "book author":
            author = self.one(data, Author)
            if author is None or author.pk == obj.author_id:
                return False
            obj.author = author
            obj.save()
        elif kind.endswith("recreate"):
            # The same pk comes back with a fresh version field (Counted: 0 again).
            fields = {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}
            labels = list(obj.labels.all()) if isinstance(obj, Book) else []
            obj.delete()
            again = type(obj).objects.create(**{**fields, "version": 0, **self.renamed(obj, name)})
            if labels:
                again.labels.set(labels)
        elif kind == "stale counted save":
            # A copy loaded before other saves writes a version number already seen (item 3a).
            copy = self.stale.pop(0) if self.stale else obj
            copy.name = name
            copy.save()
            self.stale.append(Counted.objects.get(pk=obj.pk))
        else:  # a save; Restaurant's writes Place's table too (item 5)
            for field, value in self.renamed(obj, name).items():
                setattr(obj, field, value)
            obj.save()
        return True

    @staticmethod
    def renamed(obj, name: str) -> dict[str, str]:
        return {"title": name} if isinstance(obj, Book) else {"name": name}

    def rolled_back(self, data, name: str) -> None:
        with pytest.raises(RuntimeError), transaction.atomic():
            Author.objects.update(name="ghost")
            Restaurant.objects.update(name="ghost")
            Counted.objects.update(name="ghost")
            Sku.objects.bulk_create(
                [Sku(code="s0", name="ghost")], update_conflicts=True, unique_fields=["code"], update_fields=["name"]
            )
            book = self.one(data, Book)
            if book is not None:
                book.labels.clear()
                book.delete()
            raise RuntimeError
        self.stats["rollbacks"] += 1

    @rule(data=st.data())
    def load_stale_copy(self, data) -> None:
        counted = self.one(data, Counted)
        if counted is not None:
            self.stale = [*self.stale[-2:], counted]

    @precondition(lambda self: any("/shapes/counted/" in s[0] and s[0].count("/") == 4 for s in self.seen))
    @rule(data=st.data())
    def conditional_write(self, data) -> None:
        details = [s for s in self.seen if "/shapes/counted/" in s[0] and s[0].count("/") == 4]
        url, etag, _, body, _ = data.draw(st.sampled_from(details))
        self.if_match_write(url, etag, body, {"name": data.draw(st.sampled_from(NAMES))})


@pytest.mark.django_db(transaction=True)
def test_r26_random_histories_over_shapes(mode_settings, record_property):  # noqa: F811
    KINDS.clear()
    stats = run_histories(ShapesHistory, f"stateful shapes, {mode_settings} mode", record_property)
    record_property("writes by kind", dict(KINDS))
    assert stats["writes"] > 1
    if stats["steps"] >= 10_000:  # `make reliability`: every kind of write was made
        assert set(KINDS) | {"rollback"} == set(WRITES), set(WRITES) - set(KINDS)
