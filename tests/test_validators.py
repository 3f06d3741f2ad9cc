"""validators and versions.aggregate: tags, variant keys, and the versions of whole models."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.test import RequestFactory

from django_httpcache.policy import CachePolicy
from django_httpcache.validators import etag_for, for_queryset, variant_key
from django_httpcache.versions import model_versions
from tests.testapp.models import Article, Tag

rf = RequestFactory()
TAG = re.compile(r'\A(W/)?"[0-9a-f]{32}"\Z')  # R13: a quoted lowercase hex digest
PRIVATE = CachePolicy.parse("private, no-cache", name="private")
PUBLIC = CachePolicy.parse("public, max-age=60", name="public")


# -- tags -------------------------------------------------------------------------------


def test_etag_for_is_deterministic():
    assert etag_for([1, "a", None], "v") == etag_for([1, "a", None], "v")
    assert etag_for([1, "a"], "v") == '"' + etag_for([1, "a"], "v")[1:-1] + '"'


@pytest.mark.parametrize(
    "other",
    [([2, "a"], "v"), ([1, "b"], "v"), ([1, "a"], "w"), ([1, "a", ""], "v")],
    ids=["value", "other value", "variant", "more values"],
)
def test_etag_for_changes_with_every_input(other):
    assert etag_for(*other) != etag_for([1, "a"], "v")


@pytest.mark.parametrize("values", [[1], ['"quoted", with, commas'], ["\x00 control \x7f", "é"], []])
def test_r13_tag_syntax(values):
    assert TAG.match(etag_for(values, 'variant "with" quotes'))
    assert TAG.match(etag_for(values, "v", weak=True))


def test_weak_tag_is_the_strong_one_with_w_prefix():
    strong = etag_for([1], "v")
    assert strong.startswith('"')
    assert etag_for([1], "v", weak=True) == "W/" + strong


# -- variant keys -----------------------------------------------------------------------


def key(path="/a/", policy=None, media_type="", user=None, **headers):
    request = rf.get(path, headers=headers)
    if user is not None:
        request.user = user
    return variant_key(request, policy, media_type)


def test_variant_key_is_stable():
    assert key("/a/?page=2") == key("/a/?page=2")


@pytest.mark.parametrize(
    "other",
    [
        {"path": "/b/"},
        {"path": "/a/?page=2"},
        {"media_type": "application/json"},
    ],
    ids=["path", "query", "media type"],
)
def test_variant_key_changes_with_path_query_and_media_type(other):
    assert key(**other) != key()


@pytest.mark.django_db
def test_private_policy_folds_the_user_in():
    alice = User.objects.create(username="alice")
    bob = User.objects.create(username="bob")
    assert key(policy=PRIVATE, user=alice) != key(policy=PRIVATE, user=bob)
    assert key(policy=PRIVATE, user=alice) != key(policy=PRIVATE, user=AnonymousUser())
    assert key(policy=PRIVATE, user=alice) == key(policy=PRIVATE, user=alice)
    # A public policy leaves the user out: every user shares the representation.
    assert key(policy=PUBLIC, user=alice) == key(policy=PUBLIC, user=bob) == key(policy=PUBLIC)


def test_etaggers_are_part_of_the_variant(settings):
    before = key()
    settings.HTTPCACHE = {**settings.HTTPCACHE, "ETAGGERS": [lambda request: request.headers.get("x-release", "")]}
    assert key(**{"x-release": "1"}) != key(**{"x-release": "2"})
    assert key() != before  # one more part, even when empty


# -- versions of whole models ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_model_versions_in_both_modes(mode):
    values, modified = model_versions([Article, Tag], mode=None)
    assert values[0] == mode
    if mode == "counter":
        assert len(values) == 4  # ("counter", token) per model
    assert model_versions([Article, Tag], mode=None) == (values, modified)


@pytest.mark.django_db(transaction=True)
def test_a_view_may_opt_out_of_counter_mode(mode):
    assert model_versions([Article], mode="aggregate")[0][0] == "aggregate"


@pytest.mark.django_db(transaction=True)
def test_versions_change_after_a_committed_change(mode):
    article = Article.objects.create(title="a")
    before = model_versions([Article], mode=None)[0]
    article.save()
    assert model_versions([Article], mode=None)[0] != before
    before = model_versions([Tag], mode=None)[0]
    Tag.objects.create(name="new")
    assert model_versions([Tag], mode=None)[0] != before


@pytest.mark.django_db(transaction=True)
def test_aggregate_statement_of_a_collection_changes_after_a_commit(mode):
    Article.objects.create(title="a")
    queryset = Article.objects.filter(title__startswith="a")
    before = model_versions([Tag], mode="aggregate", queryset=queryset)
    assert before[0][0] == "aggregate"
    Article.objects.create(title="ab")
    after = model_versions([Tag], mode="aggregate", queryset=queryset)
    assert after[0] != before[0]
    # The query's SQL is part of the values: another filter, another tag.
    other = model_versions([Tag], mode="aggregate", queryset=Article.objects.filter(title="zz"))
    assert other[0] != after[0]


@pytest.mark.django_db(transaction=True)
def test_collection_validators_cost_one_query_in_aggregate_mode_and_none_in_counter_mode(
    mode, django_assert_num_queries
):
    Article.objects.create(title="a")
    queryset = Article.objects.filter(title="a")
    for_queryset(queryset, "v", dependencies=[Tag])  # warm the compiled statement
    with django_assert_num_queries(1 if mode == "aggregate" else 0):
        current = for_queryset(queryset, "v", dependencies=[Tag])
    assert TAG.match(current.etag)
    assert current.exists is None and current.model_level


@pytest.mark.django_db
def test_many_models_are_read_in_statements_of_bounded_size(monkeypatch, django_assert_num_queries):
    from django_httpcache.versions import aggregate

    monkeypatch.setattr(aggregate, "MODELS_PER_STATEMENT", 1)
    with django_assert_num_queries(2):
        _, found = aggregate.read([Article, Tag], mode="aggregate")
    assert set(found) == {"testapp.article", "testapp.tag"}
    monkeypatch.undo()
    assert aggregate.read([Article, Tag], mode="aggregate")[1] == found
