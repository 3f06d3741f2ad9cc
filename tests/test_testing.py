"""django_httpcache.testing: the helpers pass on good behaviour and catch bad."""

from __future__ import annotations

import pytest

from django_httpcache.testing import (
    assert_cacheable,
    assert_conditional,
    assert_not_shareable,
    assert_write_protected,
    cache_control,
)
from tests.factories import ArticleFactory
from tests.testapp.models import Article

JSON = {"accept": "application/json"}


def test_assert_cacheable(client):
    response = assert_cacheable(client, "/catalog/", policy="catalog", shared=True)
    assert cache_control(response)["max-age"] == "60"
    assert_cacheable(client, "/user/", policy="user", shared=False)
    with pytest.raises(AssertionError, match="policy 'user'"):
        assert_cacheable(client, "/catalog/", policy="user")
    with pytest.raises(AssertionError, match="no Cache-Control"):
        assert_cacheable(client, "/plain/")


def test_assert_conditional(client, state):
    assert_conditional(client, "/cond/", change=lambda: state.update(version=2))
    with pytest.raises(AssertionError, match="no ETag or Last-Modified"):
        assert_conditional(client, "/sensitive/")


def test_assert_conditional_catches_a_stale_304(client, state):
    with pytest.raises(AssertionError, match="stale"):
        assert_conditional(client, "/cond/", change=lambda: state.update(body="new body, same version"))


@pytest.mark.django_db
def test_assert_conditional_with_models(client):
    article = ArticleFactory()
    assert_conditional(
        client, f"/api/articles/{article.pk}/", headers=JSON, change=lambda: Article.objects.get(pk=article.pk).save()
    )


@pytest.mark.django_db
def test_assert_not_shareable(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("u", password="pw"))
    assert_not_shareable(client, "/catalog/")
    client.logout()
    with pytest.raises(AssertionError, match="shareable"):
        assert_not_shareable(client, "/catalog/")


@pytest.mark.django_db
def test_assert_write_protected(client):
    article = ArticleFactory()
    assert_write_protected(client, f"/api/strict-articles/{article.pk}/", {"body": "x"}, headers=JSON)
    with pytest.raises(AssertionError, match="428"):
        assert_write_protected(client, f"/api/articles/{article.pk}/", {"body": "y"}, headers=JSON)
    assert_write_protected(client, f"/api/articles/{article.pk}/", {"body": "z"}, headers=JSON, required=False)


@pytest.mark.django_db(transaction=True)
def test_assert_write_protected_after_a_real_commit(client):
    article = ArticleFactory()
    written = assert_write_protected(client, f"/api/strict-articles/{article.pk}/", {"body": "x"}, headers=JSON)
    assert "ETag" in written
