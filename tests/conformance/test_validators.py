"""R11-R17: the 304 itself, the validators, and writes."""

from __future__ import annotations

import re
import time

import pytest
from django.utils.http import parse_http_date

from tests.test_middleware import GZIP_FIRST

from .conftest import ALL, WITH_LAST_MODIFIED, WRITERS, surfaces

REPEATED = ("Cache-Control", "Content-Location", "ETag", "Expires", "Last-Modified", "Vary")
ENTITY_TAG = re.compile(r'\A(W/)?"[\x21\x23-\x2b\x2d-\x7e]*"\Z')  # etagc without DQUOTE and comma


@surfaces(*ALL)
@pytest.mark.parametrize("method", ["get", "head"])
def test_r11_304_repeats_the_200_headers_and_has_no_body(http, surface, method):
    first = http(surface, method)
    second = http(surface, method, if_none_match=first["ETag"])
    assert second.status_code == 304
    for header in REPEATED:
        assert second.headers.get(header) == first.headers.get(header), header
    assert second.content == b""
    assert "Content-Type" not in second.headers and "Content-Length" not in second.headers


@surfaces(*WITH_LAST_MODIFIED)
def test_r11_304_from_if_modified_since_repeats_the_headers(http, surface):
    first = http(surface)
    second = http(surface, if_modified_since=first["Last-Modified"])
    assert second.status_code == 304
    for header in REPEATED:
        assert second.headers.get(header) == first.headers.get(header), header


@surfaces(*ALL)
def test_r12_cache_control_and_etag_of_304_equal_200(http, surface):
    first = http(surface)
    second = http(surface, if_none_match=first["ETag"])
    assert (second["Cache-Control"], second["ETag"]) == (first["Cache-Control"], first["ETag"])


@surfaces(*ALL)
def test_r13_entity_tag_syntax(http, surface):
    etag = http(surface)["ETag"]
    assert ENTITY_TAG.match(etag), etag


@surfaces(*ALL)
def test_r14_tag_changes_when_the_bytes_change(http, surface):
    first = http(surface)
    surface.change()
    second = http(surface)
    assert second.content != first.content and second["ETag"] != first["ETag"]


@surfaces("drf-detail", "drf-list")
def test_r14_tag_depends_on_the_negotiated_format(http, surface):
    json = http(surface, accept="application/json")
    html = http(surface, accept="text/html")
    assert json["ETag"] != html["ETag"] and "Accept" in json["Vary"]


@surfaces(*ALL)
def test_r14_compressed_bodies_get_a_weak_tag(http, surface, settings, state):
    settings.MIDDLEWARE = GZIP_FIRST
    surface.change()
    state["body"] = "compressible " * 100  # big enough to compress on every surface
    if surface.name.startswith("drf"):
        from tests.testapp.models import Article

        Article._base_manager.update(body="compressible " * 100)
    identity = http(surface)
    compressed = http(surface, accept_encoding="gzip")
    assert compressed["Content-Encoding"] == "gzip"
    assert compressed["ETag"] == "W/" + identity["ETag"].removeprefix("W/")
    assert "Accept-Encoding" in compressed["Vary"]


@surfaces(*WITH_LAST_MODIFIED)
def test_r15_last_modified_is_not_later_than_now(http, surface):
    response = http(surface)
    assert parse_http_date(response["Last-Modified"]) <= time.time()


@pytest.mark.django_db(transaction=True)  # real commits: model-level versions move at commit
@surfaces(*WRITERS)
@pytest.mark.parametrize("method", ["put", "patch"])
def test_r16_write_returns_the_new_tag(http, surface, method):
    etag = http(surface)["ETag"]
    response = http(surface, method, data={"title": "t", "body": "new"}, if_match=etag)
    assert response.status_code == 200
    current = http(surface)["ETag"]
    if surface.name == "drf-detail":
        # DRF answers update/partial_update with the stored representation (§8.7).
        assert response["Content-Location"] == surface.url
        assert response["ETag"] != etag and response["ETag"] == current
    else:
        # The test views answer "updated": not a representation, so no validator (§9.3.4).
        assert "ETag" not in response and "Last-Modified" not in response
        assert current != etag


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/require-if-match/", "/api/strict-articles/{pk}/"], ids=["decorator", "drf"])
def test_r17_precondition_required(client, url):
    from tests.factories import ArticleFactory

    url = url.format(pk=ArticleFactory().pk)
    response = client.patch(url, data={}, content_type="application/json")
    assert response.status_code == 428
    etag = client.get(url, headers={"accept": "application/json"})["ETag"]
    ok = client.patch(
        url, data={}, content_type="application/json", headers={"if-match": etag, "accept": "application/json"}
    )
    assert ok.status_code == 200
