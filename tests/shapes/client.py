"""Request helpers shared by tests/test_never_wrong_*.py."""

from __future__ import annotations

import datetime

from django.utils.http import http_date

JSON = {"accept": "application/json"}
PAST = datetime.datetime(2025, 6, 1, tzinfo=datetime.timezone.utc)
PAST_HTTP = http_date(PAST.timestamp())


def warm(client, url, **headers):
    """Two GETs (the first may only teach the app what the view reads); the second."""
    client.get(url, headers=headers)
    response = client.get(url, headers=headers)
    assert response.status_code == 200
    assert response.has_header("ETag")
    return response


def revalidate(client, url, etag=None, *, since=None, **headers):
    """A conditional GET with If-None-Match and/or If-Modified-Since."""
    if etag is not None:
        headers["if-none-match"] = etag
    if since is not None:
        headers["if-modified-since"] = since
    return client.get(url, headers=headers)


def assert_new_body(old, new, text: str) -> None:
    """The revalidation answered 200 with the new representation, not 304."""
    assert new.status_code == 200, "stale 304"
    assert text in new.content.decode()
    assert new.content != old.content


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}
