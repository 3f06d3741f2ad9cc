"""preconditions.evaluate(): RFC 9110 §13.2.2, rules R02-R10 of docs/conformance.md."""

from __future__ import annotations

import sys

import pytest
from django.test import RequestFactory
from django.utils.http import http_date

from django_httpcache.preconditions import (
    NOT_MODIFIED,
    PRECONDITION_FAILED,
    Validators,
    evaluate,
    last_modified,
)

rf = RequestFactory()
T = 1_700_000_000
CURRENT = Validators(etag='"v2"', last_modified=T)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def decide(method="GET", current=CURRENT, **headers):
    return evaluate(rf.generic(method, "/", headers=headers), current)


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "CONNECT"])
def test_r02_ignored_methods(method):
    assert decide(method, if_match='"nope"', if_none_match='"v2"') is None


@pytest.mark.parametrize("method", METHODS)
def test_r03_if_match_before_if_none_match(method):
    assert decide(method, if_match='"v1"', if_none_match='"v2"') == PRECONDITION_FAILED


@pytest.mark.parametrize("method", METHODS)
def test_r03_if_unmodified_since_ignored_with_if_match(method):
    old = http_date(T - 100)
    assert decide(method, if_match='"v2"', if_unmodified_since=old) is None


def test_r03_if_modified_since_ignored_with_if_none_match():
    # If-None-Match does not match, so IMS (which would say "not modified") is ignored.
    assert decide(if_none_match='"v1"', if_modified_since=http_date(T)) is None


@pytest.mark.parametrize("method", METHODS)
def test_r04_if_match_strong_match_passes(method):
    assert decide(method, if_match='"v2"') is None
    assert decide(method, if_match='"v0", "v2"') is None


@pytest.mark.parametrize("method", METHODS)
def test_r04_if_match_weak_tags_never_match(method):
    assert decide(method, if_match='W/"v2"') == PRECONDITION_FAILED
    weak_current = Validators(etag='W/"v2"')
    assert decide(method, weak_current, if_match='"v2"') == PRECONDITION_FAILED
    assert decide(method, weak_current, if_match='W/"v2"') == PRECONDITION_FAILED


@pytest.mark.parametrize("method", METHODS)
def test_r04_if_match_star(method):
    assert decide(method, if_match="*") is None
    # A representation without an ETag still exists (Django requires an ETag here).
    assert decide(method, Validators(last_modified=T), if_match="*") is None
    assert decide(method, Validators(exists=False), if_match="*") == PRECONDITION_FAILED


@pytest.mark.parametrize("method", METHODS)
def test_r05_failed_if_match_is_412(method):
    assert decide(method, if_match='"v1"') == PRECONDITION_FAILED
    assert decide(method, Validators(last_modified=T), if_match='"v1"') == PRECONDITION_FAILED


@pytest.mark.parametrize("value", ["", "garbage", '"unterminated', "W/", ",,,"])
def test_r05_unparseable_if_match_fails(value):
    # §13.1.1: a value that is neither * nor a list of tags matching: the condition is false.
    assert decide("PUT", if_match=value) == PRECONDITION_FAILED


@pytest.mark.parametrize("method", METHODS)
def test_r06_if_unmodified_since(method):
    assert decide(method, if_unmodified_since=http_date(T)) is None
    assert decide(method, if_unmodified_since=http_date(T + 5)) is None
    assert decide(method, if_unmodified_since=http_date(T - 1)) == PRECONDITION_FAILED


@pytest.mark.parametrize("method", METHODS)
def test_r06_if_unmodified_since_without_last_modified_is_ignored(method):
    # Django's get_conditional_response answers 412 here; RFC 9110 §13.1.4 says ignore.
    assert decide(method, Validators(etag='"v2"'), if_unmodified_since=http_date(T - 100)) is None


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        f"{http_date(T - 100)}, {http_date(T - 200)}",  # several dates
        "Sun, 99 Nov 1994 08:49:37 GMT",  # out of range
        "",
    ],
)
def test_r06_invalid_if_unmodified_since_is_ignored(value):
    assert decide("PUT", if_unmodified_since=value) is None


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_r07_if_none_match_weak_comparison(method):
    for value in ['"v2"', 'W/"v2"', '"v0", W/"v2"', ' "v1" ,"v2" ']:
        assert decide(method, if_none_match=value) == NOT_MODIFIED, value
    weak_current = Validators(etag='W/"v2"')
    assert decide(method, weak_current, if_none_match='"v2"') == NOT_MODIFIED
    assert decide(method, if_none_match='"v1"') is None


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_r07_if_none_match_star(method):
    assert decide(method, if_none_match="*") == NOT_MODIFIED
    assert decide(method, Validators(last_modified=T), if_none_match="*") == NOT_MODIFIED
    assert decide(method, Validators(exists=False), if_none_match="*") is None


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_r08_if_none_match_on_writes_is_412(method):
    assert decide(method, if_none_match='"v2"') == PRECONDITION_FAILED
    assert decide(method, if_none_match='"v1"') is None


def test_r08_put_if_none_match_star_is_create_only():
    assert decide("PUT", if_none_match="*") == PRECONDITION_FAILED
    assert decide("PUT", Validators(exists=False), if_none_match="*") is None


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_r09_if_modified_since(method):
    assert decide(method, if_modified_since=http_date(T)) == NOT_MODIFIED
    assert decide(method, if_modified_since=http_date(T + 60)) == NOT_MODIFIED
    assert decide(method, if_modified_since=http_date(T - 1)) is None


def test_r09_if_modified_since_whole_seconds():
    # Last-Modified is compared in whole seconds: 12:00:00.9 is not after 12:00:00.
    import datetime

    moment = datetime.datetime.fromtimestamp(T + 0.9, tz=datetime.timezone.utc)
    seconds, recent = last_modified(moment, now=T + 10, settle=0)
    assert (seconds, recent) == (T, False)
    current = Validators(last_modified=seconds)
    assert decide(current=current, if_modified_since=http_date(T)) == NOT_MODIFIED


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_r09_if_modified_since_only_for_get_and_head(method):
    assert decide(method, if_modified_since=http_date(T + 60)) is None


@pytest.mark.parametrize("value", ["not a date", f"{http_date(T)}, {http_date(T)}", "Mon, 32 Jan 2024 00:00:00 GMT"])
def test_r09_invalid_if_modified_since_is_ignored(value):
    assert decide(if_modified_since=value) is None


def test_r09_without_last_modified_is_ignored():
    assert decide(current=Validators(etag='"v2"'), if_modified_since=http_date(T)) is None


def test_r10_head_is_get():
    for headers in [
        {"if_none_match": '"v2"'},
        {"if_modified_since": http_date(T)},
        {"if_match": '"v1"'},
        {"if_unmodified_since": http_date(T - 1)},
    ]:
        assert decide("HEAD", **headers) == decide("GET", **headers), headers


def test_r15_last_modified_in_the_future_or_this_second_is_recent():
    import datetime

    future = datetime.datetime.fromtimestamp(T + 3600, tz=datetime.timezone.utc)
    assert last_modified(future, now=T, settle=0) == (T + 3600, True)
    assert last_modified(T + 0.5, now=T + 0.9, settle=0) == (T, True)  # this very second
    assert last_modified(T + 0.5, now=T + 1.0, settle=0) == (T, False)
    assert last_modified(T, now=T + 30, settle=60) == (T, True)  # inside the settle window
    assert last_modified(T, now=T + 61, settle=60) == (T, False)
    naive = datetime.datetime(2024, 1, 1, 0, 0, 0, 999999)
    assert last_modified(naive, now=T * 2, settle=60) == (1704067200, False)
    assert last_modified(None, now=T, settle=60) == (None, False)


def test_recent_last_modified_does_not_answer_if_modified_since():
    current = Validators(last_modified=T, modified_recently=True)
    assert decide(current=current, if_modified_since=http_date(T + 5)) is None


@pytest.mark.parametrize("method", METHODS)
def test_r06_recent_last_modified_still_guards_writes(method):
    current = Validators(last_modified=T, modified_recently=True)
    assert decide(method, current, if_unmodified_since=http_date(T - 1)) == PRECONDITION_FAILED
    assert decide(method, current, if_unmodified_since=http_date(T)) is None


def test_unknown_existence_star_proceeds():
    unknown = Validators(etag='"v2"', exists=None)
    assert decide(current=unknown, if_none_match="*") is None  # the view decides (404 or 200)
    assert decide("PUT", unknown, if_match="*") is None
    assert decide(current=unknown, if_none_match='"v2"') == NOT_MODIFIED


# -- bad input -------------------------------------------------------------------------

BAD_VALUES = [
    "",
    " ",
    '"',
    '"unbalanced',
    'W/"x',
    "W/",
    "\x00\x01",
    "é\u00ff\u00fe",
    '"é"',
    "*, *",
    '*, "v2"',
    "a" * 100_000,
    ", ".join(f'"t{i}"' for i in range(10_000)),
    "Sun, 06 Nov 1994 08:49:37 GMT",
    "Sat, 01 Jan 10000 00:00:00 GMT",
    "Fri, 31 Dec 1899 23:59:59 GMT",
    "Thu, 01 Jan 1970 00:00:00 GMT, Thu, 01 Jan 1970 00:00:00 GMT",
    "99999999999999999999",
]
HEADERS = ["if_match", "if_none_match", "if_modified_since", "if_unmodified_since"]


@pytest.mark.parametrize("header", HEADERS)
@pytest.mark.parametrize("value", BAD_VALUES, ids=lambda v: repr(v[:20]))
@pytest.mark.parametrize("method", METHODS)
def test_bad_headers_never_raise(method, header, value):
    assert decide(method, **{header: value}) in (None, NOT_MODIFIED, PRECONDITION_FAILED)


def test_many_tags_match_anywhere():
    tags = [f'"t{i}"' for i in range(10_000)]
    assert decide(if_none_match=", ".join([*tags, '"v2"'])) == NOT_MODIFIED
    assert decide("PUT", if_match=", ".join(['"v2"', *tags])) is None


def _traced_lines(func) -> int:
    """Python line events while func runs: counts work, not wall time."""
    count = 0

    def tracer(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return tracer

    sys.settrace(tracer)
    try:
        func()
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize("header", ["if_none_match", "if_match"])
def test_many_tags_linear_work(header):
    def work(n):
        value = ", ".join(f'"t{i}"' for i in range(n))
        request = rf.get("/", headers={header: value})
        return _traced_lines(lambda: evaluate(request, CURRENT))

    small, large = work(1_000), work(10_000)
    # Ten times the tags, about ten times the work (quadratic would be ~100x).
    assert 5 * small < large < 15 * small
