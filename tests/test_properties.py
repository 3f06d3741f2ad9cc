"""Property-based tests: any If-* header on any method.

1. Through every surface: never a 5xx, only the statuses a precondition may produce.
2. The engine against a reference model written here from RFC 9110 §13.1-13.2, with
   its own list and date parsing (not Django's helpers, not the engine's code).
"""

from __future__ import annotations

import email.utils
import re

import pytest
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django_httpcache.preconditions import Validators, evaluate
from tests.factories import ArticleFactory

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
HEADERS = ["if_match", "if_none_match", "if_modified_since", "if_unmodified_since"]
T = 1_700_000_000

# -- strategies ---------------------------------------------------------------------------

opaque = st.text(alphabet=st.sampled_from("abcdef0123456789-_.v"), min_size=0, max_size=12)
entity_tag = st.builds(lambda weak, body: ('W/"' if weak else '"') + body + '"', st.booleans(), opaque)
tag_list = st.lists(entity_tag, min_size=1, max_size=6).map(", ".join)
http_date = st.integers(min_value=0, max_value=4_102_444_800).map(lambda s: email.utils.formatdate(s, usegmt=True))
near_date = st.integers(min_value=T - 5, max_value=T + 5).map(lambda s: email.utils.formatdate(s, usegmt=True))
latin1 = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"), max_size=300
)
garbage = st.one_of(
    latin1,
    st.just(""),
    st.just(" * "),
    st.builds(lambda n: ", ".join(['"x"'] * n), st.integers(0, 3000)),
    st.builds(lambda a, b: f"{a}, {b}", http_date, http_date),
    st.sampled_from(["W/", '"unbalanced', "*, *", 'W/"x', "Mon, 32 Jan 2024 00:00:00 GMT", "9" * 40]),
)
header_value = st.one_of(tag_list, st.just("*"), http_date, near_date, garbage)
headers = st.dictionaries(st.sampled_from(HEADERS), header_value, max_size=4)


# -- 1. never a 5xx through the surfaces ------------------------------------------------


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(METHODS), request_headers=headers, target=st.sampled_from(["decorator", "middleware", "drf"])
)
def test_any_header_on_any_surface_is_never_a_5xx(client, method, request_headers, target):
    if target == "decorator":
        url = "/cond/"
    elif target == "middleware":
        url = "/plain/"
    else:
        url = f"/api/articles/{ArticleFactory().pk}/"
    response = client.generic(
        method,
        url,
        data=b'{"body": "x"}' if method in ("PUT", "PATCH", "POST") else b"",
        content_type="application/json",
        headers={k.replace("_", "-"): v for k, v in request_headers.items()},
    )
    assert response.status_code < 500
    assert response.status_code in (200, 201, 204, 304, 400, 404, 405, 412, 428)


# -- 2. the engine against the reference model ----------------------------------------------

_TAG = re.compile(r'\s*((?:W/)?"[\x21\x23-\x7e\x80-\xff]*")\s*')


def ref_tags(value: str) -> list[str] | None:
    """A #entity-tag list (RFC 9110 §5.6.1, §8.8.3), or None when it is not one."""
    tags, position = [], 0
    while position < len(value):
        match = _TAG.match(value, position)
        if match is None:
            return None
        tags.append(match.group(1))
        position = match.end()
        if position < len(value):
            if value[position] != ",":
                return None
            position += 1
    return tags


def ref_date(value: str) -> int | None:
    """An IMF-fixdate only (what a well-formed client sends); anything else: None."""
    match = re.fullmatch(r"[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT", value)
    if match is None:
        return None
    parsed = email.utils.parsedate_to_datetime(value)
    return int(parsed.timestamp())


def strong_match(a: str, b: str) -> bool:  # §8.8.3.2
    return not a.startswith("W/") and not b.startswith("W/") and a == b


def weak_match(a: str, b: str) -> bool:
    return a.removeprefix("W/") == b.removeprefix("W/")


def reference(method: str, fields: dict[str, str], etag: str | None, modified: int | None, exists: bool) -> int | None:
    """RFC 9110 §13.2.2, steps 1-4 (no Range)."""
    if method in ("CONNECT", "OPTIONS", "TRACE"):
        return None
    safe = method in ("GET", "HEAD")
    if "if_match" in fields:  # §13.1.1
        value = fields["if_match"].strip()
        if value == "*":
            condition = exists
        else:
            tags = ref_tags(value) or []
            condition = exists and etag is not None and any(strong_match(t, etag) for t in tags)
        if not condition:
            return 412
    elif "if_unmodified_since" in fields and modified is not None:  # §13.1.4
        date = ref_date(fields["if_unmodified_since"])
        if date is not None and not modified <= date:
            return 412
    if "if_none_match" in fields:  # §13.1.2
        value = fields["if_none_match"].strip()
        if value == "*":
            matched = exists
        else:
            tags = ref_tags(value) or []
            matched = exists and etag is not None and any(weak_match(t, etag) for t in tags)
        if matched:
            return 304 if safe else 412
        return None
    if safe and "if_modified_since" in fields and modified is not None:  # §13.1.3
        date = ref_date(fields["if_modified_since"])
        if date is not None and modified <= date:
            return 304
    return None


well_formed = st.one_of(tag_list, st.just("*"), http_date, near_date)
current = st.builds(
    lambda tag, modified, exists: (tag, modified, exists),
    st.one_of(st.none(), entity_tag, st.sampled_from(['"v1"', 'W/"v1"'])),
    st.one_of(st.none(), st.integers(T - 5, T + 5)),
    st.booleans(),
)

rf = RequestFactory()


@settings(max_examples=2000, deadline=None)
@given(
    method=st.sampled_from([*METHODS, "TRACE"]),
    fields=st.dictionaries(st.sampled_from(HEADERS), st.one_of(well_formed, st.sampled_from(['"v1"', 'W/"v1"']))),
    state=current,
)
def test_engine_agrees_with_the_reference_on_well_formed_headers(method, fields, state):
    etag, modified, exists = state
    if not exists:
        etag = modified = None
    request = rf.generic(method, "/", headers={k.replace("_", "-"): v for k, v in fields.items()})
    engine = evaluate(request, Validators(etag=etag, last_modified=modified, exists=exists))
    assert engine == reference(method, fields, etag, modified, exists)


@settings(max_examples=1000, deadline=None)
@given(method=st.sampled_from(METHODS), fields=headers, state=current)
def test_malformed_headers_fail_safe(method, fields, state):
    """Garbage never yields a 304 the reference would not give, and If-Match garbage
    on an existing resource always fails (lost-update protection)."""
    etag, modified, exists = state
    request = rf.generic(method, "/", headers={k.replace("_", "-"): v for k, v in fields.items()})
    engine = evaluate(request, Validators(etag=etag, last_modified=modified, exists=exists))
    assert engine in (None, 304, 412)
    if engine == 304:
        assert method in ("GET", "HEAD")
        assert reference(method, fields, etag, modified, exists) == 304 or _lenient_match(fields, etag)


def _lenient_match(fields: dict[str, str], etag: str | None) -> bool:
    """Django's parse_etags keeps the valid members of a partly broken list; a 304 then
    still needs one of them (or *, or an If-Modified-Since date) to match."""
    from django.utils.cache import parse_etags

    value = fields.get("if_none_match")
    if value is None:
        return "if_modified_since" in fields
    members = parse_etags(value)
    return members == ["*"] or (etag is not None and any(weak_match(m, etag) for m in members))
