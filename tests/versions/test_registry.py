"""versions.registry: which models are tracked, and their version fields."""

from __future__ import annotations

import pytest

from catalog.models import Category, Product
from django_httpcache import versions
from tests.testapp.models import Article, ArticleProxy, Note, Tag

pytestmark = pytest.mark.django_db


def test_versioned_manager_tracks_its_model():
    assert versions.is_tracked(Article) and versions.is_tracked(Tag)
    assert versions.is_tracked(Product) and versions.is_tracked(Category)
    assert versions.is_tracked(ArticleProxy)
    assert not versions.is_tracked(Note)


def test_track_by_label():
    versions.track("testapp.Note")
    try:
        assert versions.is_tracked(Note)
    finally:
        versions._tracked.discard(Note)


def test_row_fields(settings):
    assert [f.name for f in versions.row_fields(Article)] == ["version", "updated_at"]
    assert versions.row_fields(Tag) == (None, None)
    settings.HTTPCACHE = {**settings.HTTPCACHE, "VERSION_FIELD": "title"}  # not an integer
    assert versions.row_fields(Article)[0] is None


def test_abstract_base_manager_tracks_the_subclass():
    from tests.testapp.models import Inherited

    assert versions.is_tracked(Inherited)
