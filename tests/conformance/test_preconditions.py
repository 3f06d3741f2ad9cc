"""R01-R10: when and how preconditions are evaluated, on every surface."""

from __future__ import annotations

import pytest

from .conftest import ALL, FORBIDDABLE, REMOVABLE, WITH_LAST_MODIFIED, WRITERS, surfaces

OLD_DATE = "Thu, 01 Jan 2015 00:00:00 GMT"
FUTURE_DATE = "Fri, 01 Jan 2100 00:00:00 GMT"


@surfaces(*FORBIDDABLE)
@pytest.mark.parametrize("header", ["*", "etag"])
def test_r01_forbidden_stays_403(http, surface, header):
    etag = http(surface)["ETag"]
    surface.forbid()
    response = http(surface, if_none_match=etag if header == "etag" else "*")
    assert response.status_code == 403


@surfaces(*REMOVABLE)
@pytest.mark.parametrize("header", ["*", "etag"])
def test_r01_missing_stays_404(http, surface, header):
    etag = http(surface)["ETag"]
    surface.remove()
    assert http(surface, if_none_match=etag if header == "etag" else "*").status_code == 404


@surfaces(*ALL)
@pytest.mark.parametrize("method", ["options", "trace"])
def test_r02_ignored_methods(http, surface, method):
    response = http(surface, method, if_match='"garbage"', if_none_match="*")
    # The method's own answer: DRF views do not allow TRACE (405); the others answer 200.
    expected = 405 if surface.name.startswith("drf") and method == "trace" else 200
    assert response.status_code == expected


@surfaces(*ALL)
def test_r03_if_match_is_evaluated_first(http, surface):
    etag = http(surface)["ETag"]
    assert http(surface, if_match='"other"', if_none_match=etag).status_code == 412


@surfaces(*WITH_LAST_MODIFIED)
def test_r03_if_unmodified_since_ignored_with_if_match(http, surface):
    etag = http(surface)["ETag"]
    assert http(surface, if_match=etag, if_unmodified_since=OLD_DATE).status_code == 200


@surfaces(*WITH_LAST_MODIFIED)
def test_r03_if_modified_since_ignored_with_if_none_match(http, surface):
    assert http(surface, if_none_match='"other"', if_modified_since=FUTURE_DATE).status_code == 200


@surfaces(*ALL)
def test_r04_if_match_uses_strong_comparison(http, surface):
    etag = http(surface)["ETag"]
    assert http(surface, if_match=etag).status_code == 200
    assert http(surface, if_match="W/" + etag).status_code == 412
    assert http(surface, if_match="*").status_code == 200


@surfaces(*WRITERS)
def test_r05_failed_if_match_performs_nothing(http, surface):
    before = http(surface)
    response = http(surface, "patch", data={"body": "x"}, if_match='"stale"')
    assert response.status_code == 412
    after = http(surface)
    assert after["ETag"] == before["ETag"] and after.content == before.content


@surfaces(*WRITERS)
def test_r06_if_unmodified_since(http, surface):
    last_modified = http(surface)["Last-Modified"]
    assert http(surface, "patch", data={"body": "x"}, if_unmodified_since=OLD_DATE).status_code == 412
    assert http(surface, "patch", data={"body": "x"}, if_unmodified_since=last_modified).status_code == 200


@surfaces("middleware", "middleware-async")
def test_r06_if_unmodified_since_without_last_modified_is_ignored(http, surface):
    assert "Last-Modified" not in http(surface)
    assert http(surface, if_unmodified_since=OLD_DATE).status_code == 200


@surfaces(*WRITERS)
@pytest.mark.parametrize("value", ["garbage", f"{OLD_DATE}, {OLD_DATE}", "Sun, 99 Jan 2015 00:00:00 GMT"])
def test_r06_invalid_if_unmodified_since_is_ignored(http, surface, value):
    assert http(surface, "patch", data={"body": "x"}, if_unmodified_since=value).status_code == 200


@surfaces(*ALL)
def test_r07_if_none_match_weak_comparison_and_lists(http, surface):
    etag = http(surface)["ETag"]
    assert http(surface, if_none_match=etag).status_code == 304
    assert http(surface, if_none_match="W/" + etag).status_code == 304
    assert http(surface, if_none_match=f'"a", {etag}, "b"').status_code == 304
    assert http(surface, if_none_match='"a", "b"').status_code == 200


@surfaces(*[s for s in ALL if s != "drf-list"])
def test_r07_if_none_match_star(http, surface):
    assert http(surface, if_none_match="*").status_code == 304


@surfaces(*WRITERS)
def test_r08_if_none_match_on_writes_is_412(http, surface):
    etag = http(surface)["ETag"]
    assert http(surface, "patch", data={"body": "x"}, if_none_match=etag).status_code == 412
    assert http(surface, "put", data={"title": "x"}, if_none_match="*").status_code == 412


@surfaces(*WITH_LAST_MODIFIED)
def test_r09_if_modified_since(http, surface):
    last_modified = http(surface)["Last-Modified"]
    assert http(surface, if_modified_since=last_modified).status_code == 304
    assert http(surface, if_modified_since=FUTURE_DATE).status_code == 304
    assert http(surface, if_modified_since=OLD_DATE).status_code == 200
    assert http(surface, if_modified_since="garbage").status_code == 200


@surfaces(*WRITERS)
def test_r09_if_modified_since_only_for_get_and_head(http, surface):
    assert http(surface, "patch", data={"body": "x"}, if_modified_since=FUTURE_DATE).status_code == 200


@surfaces(*ALL)
def test_r10_head_is_get(http, surface):
    get, head = http(surface), http(surface, "head")
    assert head.status_code == 200 and head["ETag"] == get["ETag"]
    assert head.headers.get("Last-Modified") == get.headers.get("Last-Modified")
    assert http(surface, "head", if_none_match=get["ETag"]).status_code == 304
    assert http(surface, "head", if_match='"other"').status_code == 412
