"""The compiled-SQL cache of aggregate mode (versions/shapes.py): a key never names two
querysets whose SQL differs, so a tag never comes from another query's statement."""

from __future__ import annotations

import datetime
import decimal
import itertools
import zoneinfo

import pytest
from django.contrib.auth.models import User
from django.db.models import Count, Exists, F, FilteredRelation, OuterRef, Q
from django.db.models.sql import Query

from django_httpcache.versions import aggregate, shapes
from tests.testapp.models import Article, ArticleProxy, Inherited, Tag

NAMES = ("id", "updated_at")
UTC = datetime.timezone.utc
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NOON = datetime.datetime(2026, 1, 1, 12, tzinfo=UTC)


def querysets():
    """Many shapes, and values that compare equal across types (1, 1.0, True; the same
    instant in two zones; Decimal("1") and Decimal("1.0"))."""
    articles = Article.objects.all()
    return {
        "all": articles,
        "select_related": articles.select_related("owner", "featured"),
        "prefetch": articles.prefetch_related("tags"),
        "only": articles.only("title"),
        "values": articles.values("title"),
        "title=a": articles.filter(title="a"),
        "title=b": articles.filter(title="b"),
        "title iexact a": articles.filter(title__iexact="a"),
        "title startswith a": articles.filter(title__startswith="a"),
        "version=1": articles.filter(version=1),
        "version=1.0": articles.filter(version=1.0),
        "version=True": articles.filter(version=True),
        "version=2": articles.filter(version=2),
        "version in [1,2]": articles.filter(version__in=[1, 2]),
        "version in [2,1]": articles.filter(version__in=[2, 1]),
        "version in (1,2)": articles.filter(version__in=(1, 2)),
        "version in {1,2}": articles.filter(version__in={1, 2}),
        "version range": articles.filter(version__range=(1, 5)),
        "updated utc": articles.filter(updated_at__gte=NOON),
        "updated paris": articles.filter(updated_at__gte=NOON.astimezone(PARIS)),
        "updated later": articles.filter(updated_at__gte=NOON + datetime.timedelta(seconds=1)),
        "owner null": articles.filter(owner__isnull=True),
        "owner not null": articles.filter(owner__isnull=False),
        "owner name": articles.filter(owner__username="ann"),
        "featured name": articles.filter(featured__name="x"),
        "featured name or title": articles.filter(Q(featured__name="x") | Q(title="x")),
        "not title": articles.filter(~Q(title="a")),
        "title or version": articles.filter(Q(title="a") | Q(version=1)),
        "not (title or version)": articles.filter(~(Q(title="a") | Q(version=1))),
        "title xor version": articles.filter(Q(title="a") ^ Q(version=1)),
        "exclude title": articles.exclude(title="a"),
        "tags name": articles.filter(tags__name="x"),
        "tags name twice": articles.filter(tags__name="x").filter(tags__name="y"),
        "tags name both": articles.filter(tags__name="x", tags__id=1),
        "exclude tags": articles.exclude(tags__name="x"),
        "distinct tags": articles.filter(tags__name="x").distinct(),
        "sliced": articles.order_by("title")[:10],
        "sliced desc": articles.order_by("-title")[:10],
        "sliced offset": articles.order_by("title")[10:20],
        "sliced from 5": articles.order_by("title")[5:10],
        "sliced default order": articles.all()[:10],
        "sliced reversed": articles.reverse()[:10],
        "annotated": articles.annotate(n=Count("tags")).filter(n__gt=1),
        "F": articles.filter(version=F("id")),
        "exists": articles.filter(Exists(Tag.objects.filter(featured_in=OuterRef("pk")))),
        "subquery in": articles.filter(featured__in=Tag.objects.filter(name="x")),
        "filtered relation": articles.annotate(x=FilteredRelation("tags", condition=Q(tags__name="x"))).filter(
            x__isnull=False
        ),
        "extra": articles.extra(where=["1 = 1"]),
        "transform": articles.filter(updated_at__year=2026),
        "proxy": ArticleProxy.objects.filter(title="a"),
        "inherited": Inherited.objects.filter(name="a"),
        "tag": Tag.objects.filter(name="a"),
        "decimal 1": Tag.objects.filter(id=decimal.Decimal("1")),
        "decimal 1.0": Tag.objects.filter(id=decimal.Decimal("1.0")),
    }


def names(queryset):
    """The columns aggregate mode selects: the key, and updated-at where there is one."""
    fields = {field.name for field in queryset.model._meta.concrete_fields}
    return tuple(name for name in NAMES if name in fields)


def fresh(queryset):
    sql, params = queryset.values(*names(queryset)).query.sql_with_params()
    return sql, tuple(params)


def prepared(queryset):
    """As aggregate mode hands it over: without ordering unless sliced."""
    return queryset if queryset.query.is_sliced else queryset.order_by()


@pytest.mark.django_db
def test_a_key_never_names_two_statements():
    found = {name: prepared(qs) for name, qs in querysets().items()}
    keys = {name: shapes.shape_key(qs.query) for name, qs in found.items()}
    shared = []
    for (a, key_a), (b, key_b) in itertools.combinations(keys.items(), 2):
        if key_a is not None and key_a == key_b:
            assert fresh(found[a]) == fresh(found[b]), (a, b)
            shared.append({a, b})
    # The ORM prepares 1.0 and True for an integer field as 1: one statement, one key.
    assert {"version=1", "version=1.0"} in shared and {"version=1", "version=True"} in shared
    # The same instant in two zones: another repr, another key (a spare compile, no harm).
    assert keys["updated utc"] != keys["updated paris"]
    # What the module does not read gets no key: it is compiled every time.
    for name in ("annotated", "F", "exists", "subquery in", "filtered relation", "extra", "transform", "exclude tags"):
        assert keys[name] is None, name
    assert sum(key is not None for key in keys.values()) >= 30


@pytest.mark.django_db
@pytest.mark.parametrize("order", ["forward", "backward"])
def test_cached_statements_are_each_querysets_own(order):
    """Warm the cache with every shape, then ask again, in both orders: each queryset
    gets exactly the statement it compiles to."""
    shapes.forget()
    items = list(querysets().items())
    if order == "backward":
        items.reverse()
    for _, qs in items:
        shapes.compiled_rows(prepared(qs), names(qs))
    for name, qs in reversed(items):
        assert shapes.compiled_rows(prepared(qs), names(qs)) == fresh(prepared(qs)), name


@pytest.mark.django_db
def test_a_seen_queryset_is_not_compiled_again(monkeypatch):
    shapes.forget()
    compiled = []
    original = Query.sql_with_params
    monkeypatch.setattr(Query, "sql_with_params", lambda self: compiled.append(1) or original(self))
    for _ in range(3):  # a new queryset each time, as a view's get_queryset() gives
        shapes.compiled_rows(Article.objects.filter(title="a").order_by(), NAMES)
    assert len(compiled) == 1
    shapes.compiled_rows(Article.objects.filter(title="b").order_by(), NAMES)  # another value
    shapes.compiled_rows(Article.objects.annotate(n=Count("tags")).order_by(), NAMES)  # no key
    shapes.compiled_rows(Article.objects.annotate(n=Count("tags")).order_by(), NAMES)
    assert len(compiled) == 4


@pytest.mark.django_db
def test_the_cache_is_bounded(monkeypatch):
    shapes.forget()
    monkeypatch.setattr(shapes, "LIMIT", 5)
    for index in range(20):
        shapes.compiled_rows(Article.objects.filter(version=index).order_by(), NAMES)
    assert len(shapes._compiled) == 5


@pytest.mark.django_db
def test_aggregate_versions_follow_the_data_through_the_cache(django_capture_on_commit_callbacks):
    """End to end: the cached statement still runs each time (COUNT and MAX move)."""
    shapes.forget()
    owner = User.objects.create(username="ann")
    Article.objects.create(title="a", owner=owner)

    def version():
        qs = Article.objects.filter(owner__username="ann")
        return aggregate.read([], "aggregate", queryset=qs)[0]

    first = version()
    assert version() == first
    with django_capture_on_commit_callbacks(execute=True):
        Article.objects.create(title="b", owner=owner)
    assert version() != first


@pytest.mark.django_db
def test_join_types_and_unused_joins_are_in_the_key():
    """Two queries with one where clause: an outer join, and a join the query no longer
    uses (trimmed by ``featured__id``), change the SQL; so they change the key."""
    inner = Article.objects.filter(featured__name="x").order_by()
    outer = inner.all()
    outer.query.promote_joins(set(outer.query.alias_map) - {outer.query.base_table})
    trimmed = Article.objects.filter(featured__id=1).order_by()
    joined = trimmed.all()
    for alias in joined.query.alias_map:
        joined.query.alias_refcount[alias] = 1
    for a, b in [(inner, outer), (trimmed, joined)]:
        assert fresh(a) != fresh(b)
        assert shapes.shape_key(a.query) != shapes.shape_key(b.query)
