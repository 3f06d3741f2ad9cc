"""Django's ``condition()`` test suite, run against ``@conditional``.

Adapted from Django 5.2.19 (stable/5.2.x; the ``django-5.2.19`` sdist on PyPI),
``tests/conditional_processing/tests.py``.

Copyright (c) Django Software Foundation and individual contributors.
All rights reserved. Django is BSD-3-Clause licensed; these tests are adapted from it
(names, docstrings and comments kept, so each maps to Django's).

The suite runs three times: ``ConditionalGetSync`` (sync function views),
``ConditionalGetAsync`` (async function views with async callables) and
``ConditionalGetClassBased`` (methods of a class-based view), each with the URLconf
of its form and the suite's middleware (``HttpCacheMiddleware`` included).

Adaptations, marked ``# Adapted:`` or ``# RFC`` where they occur:

- The app does not send the view's etag value: it hashes it with the variant key (the
  path, among others) into its own tag, so each URL has its own tag. Where Django sends
  the module's ``ETAG`` back, these tests send the tag the URL's first, unconditional
  response carried (``self.tag(path)``); ``WEAK_ETAG`` becomes ``W/`` plus that tag.
  ``EXPIRED_ETAG`` stays as it is: a tag the server never sent.
- If-Unmodified-Since on a resource without Last-Modified is ignored (RFC 9110
  §13.1.4); Django answers 412 (test_single_condition_7, test_single_condition_9).
- The assertions that a 2xx to PUT carries no ETag or Last-Modified are Django's, and
  they are RFC 9110 §9.3.4's too: the view's body is not the new representation.
"""

# Django's unittest-style text is kept so each line maps to the original.
# ruff: noqa: PT009, UP031

from __future__ import annotations

import re

from django.test import SimpleTestCase, override_settings

from .views import FULL_RESPONSE

LAST_MODIFIED_STR = "Sun, 21 Oct 2007 23:21:47 GMT"
LAST_MODIFIED_NEWER_STR = "Mon, 18 Oct 2010 16:56:23 GMT"
LAST_MODIFIED_INVALID_STR = "Mon, 32 Oct 2010 16:56:23 GMT"
EXPIRED_LAST_MODIFIED_STR = "Sat, 20 Oct 2007 23:21:47 GMT"
EXPIRED_ETAG = '"7fae4cd4b0f81e7d2914700043aa8ed6"'

PATHS = (
    "/condition/",
    "/condition/last_modified/",
    "/condition/last_modified2/",
    "/condition/etag/",
    "/condition/etag2/",
    "/condition/unquoted_etag/",
    "/condition/weak_etag/",
    "/condition/no_etag/",
)
STRONG_TAG = re.compile(r'^"[0-9a-f]{32}"$')


def strong(tag):
    return tag.removeprefix("W/")


def weak(tag):
    return "W/" + strong(tag)


class ConditionalGetTests:
    """Django's ``ConditionalGet`` test case; mixed into one SimpleTestCase per form."""

    def setUp(self):
        # Adapted: the tag of each URL, from a first request without conditions. It
        # stands for Django's ETAG (the value every etag view returns).
        self.tags = {path: self.client.get(path).headers.get("ETag") for path in PATHS}
        self.ETAG = self.tag("/condition/")
        self.WEAK_ETAG = weak(self.ETAG)  # weak match to ETAG

    def tag(self, path):
        tag = self.tags[path]
        assert tag is not None, f"{path} sent no ETag"
        return tag

    def assertFullResponse(self, response, check_last_modified=True, check_etag=True):
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.content, FULL_RESPONSE.encode())
        if response.request["REQUEST_METHOD"] in ("GET", "HEAD"):
            if check_last_modified:
                self.assertEqual(response.headers["Last-Modified"], LAST_MODIFIED_STR)
            if check_etag:
                # Adapted: the tag the URL's unconditional response carried.
                self.assertEqual(response.headers["ETag"], self.tag(response.request["PATH_INFO"]))
        else:
            # RFC 9110 §9.3.4: no validator in a 2xx to PUT unless the body is the new
            # representation (e.g. Content-Location equal to the target URI, §8.7).
            self.assertNotIn("Last-Modified", response.headers)
            self.assertNotIn("ETag", response.headers)

    def assertNotModified(self, response):
        self.assertEqual(response.status_code, 304)
        self.assertEqual(response.content, b"")

    def test_without_conditions(self):
        response = self.client.get("/condition/")
        self.assertFullResponse(response)

    def test_if_modified_since(self):
        self.client.defaults["HTTP_IF_MODIFIED_SINCE"] = LAST_MODIFIED_STR
        response = self.client.get("/condition/")
        self.assertNotModified(response)
        response = self.client.put("/condition/")
        self.assertFullResponse(response)
        self.client.defaults["HTTP_IF_MODIFIED_SINCE"] = LAST_MODIFIED_NEWER_STR
        response = self.client.get("/condition/")
        self.assertNotModified(response)
        response = self.client.put("/condition/")
        self.assertFullResponse(response)
        self.client.defaults["HTTP_IF_MODIFIED_SINCE"] = LAST_MODIFIED_INVALID_STR
        response = self.client.get("/condition/")
        self.assertFullResponse(response)
        self.client.defaults["HTTP_IF_MODIFIED_SINCE"] = EXPIRED_LAST_MODIFIED_STR
        response = self.client.get("/condition/")
        self.assertFullResponse(response)

    def test_if_unmodified_since(self):
        self.client.defaults["HTTP_IF_UNMODIFIED_SINCE"] = LAST_MODIFIED_STR
        response = self.client.get("/condition/")
        self.assertFullResponse(response)
        self.client.defaults["HTTP_IF_UNMODIFIED_SINCE"] = LAST_MODIFIED_NEWER_STR
        response = self.client.get("/condition/")
        self.assertFullResponse(response)
        self.client.defaults["HTTP_IF_UNMODIFIED_SINCE"] = LAST_MODIFIED_INVALID_STR
        response = self.client.get("/condition/")
        self.assertFullResponse(response)
        self.client.defaults["HTTP_IF_UNMODIFIED_SINCE"] = EXPIRED_LAST_MODIFIED_STR
        response = self.client.get("/condition/")
        self.assertEqual(response.status_code, 412)

    def test_if_none_match(self):
        self.client.defaults["HTTP_IF_NONE_MATCH"] = self.ETAG
        response = self.client.get("/condition/")
        self.assertNotModified(response)
        response = self.client.put("/condition/")
        self.assertEqual(response.status_code, 412)
        self.client.defaults["HTTP_IF_NONE_MATCH"] = EXPIRED_ETAG
        response = self.client.get("/condition/")
        self.assertFullResponse(response)

        # Several etags in If-None-Match is a bit exotic but why not?
        self.client.defaults["HTTP_IF_NONE_MATCH"] = "%s, %s" % (self.ETAG, EXPIRED_ETAG)
        response = self.client.get("/condition/")
        self.assertNotModified(response)

    def test_weak_if_none_match(self):
        """
        If-None-Match comparisons use weak matching, so weak and strong ETags
        with the same value result in a 304 response.
        """
        # Adapted: the strong and the weak form of the weak view's own tag.
        self.client.defaults["HTTP_IF_NONE_MATCH"] = strong(self.tag("/condition/weak_etag/"))
        response = self.client.get("/condition/weak_etag/")
        self.assertNotModified(response)
        response = self.client.put("/condition/weak_etag/")
        self.assertEqual(response.status_code, 412)

        self.client.defaults["HTTP_IF_NONE_MATCH"] = weak(self.tag("/condition/weak_etag/"))
        response = self.client.get("/condition/weak_etag/")
        self.assertNotModified(response)
        response = self.client.put("/condition/weak_etag/")
        self.assertEqual(response.status_code, 412)
        # Adapted: the weak form of /condition/'s (strong) tag.
        self.client.defaults["HTTP_IF_NONE_MATCH"] = self.WEAK_ETAG
        response = self.client.get("/condition/")
        self.assertNotModified(response)
        response = self.client.put("/condition/")
        self.assertEqual(response.status_code, 412)

    def test_all_if_none_match(self):
        self.client.defaults["HTTP_IF_NONE_MATCH"] = "*"
        response = self.client.get("/condition/")
        self.assertNotModified(response)
        response = self.client.put("/condition/")
        self.assertEqual(response.status_code, 412)
        response = self.client.get("/condition/no_etag/")
        self.assertFullResponse(response, check_last_modified=False, check_etag=False)

    def test_if_match(self):
        self.client.defaults["HTTP_IF_MATCH"] = self.ETAG
        response = self.client.put("/condition/")
        self.assertFullResponse(response)
        self.client.defaults["HTTP_IF_MATCH"] = EXPIRED_ETAG
        response = self.client.put("/condition/")
        self.assertEqual(response.status_code, 412)

    def test_weak_if_match(self):
        """
        If-Match comparisons use strong matching, so any comparison involving
        a weak ETag return a 412 response.
        """
        self.client.defaults["HTTP_IF_MATCH"] = strong(self.tag("/condition/weak_etag/"))
        response = self.client.get("/condition/weak_etag/")
        self.assertEqual(response.status_code, 412)

        self.client.defaults["HTTP_IF_MATCH"] = weak(self.tag("/condition/weak_etag/"))
        response = self.client.get("/condition/weak_etag/")
        self.assertEqual(response.status_code, 412)
        self.client.defaults["HTTP_IF_MATCH"] = self.WEAK_ETAG
        response = self.client.get("/condition/")
        self.assertEqual(response.status_code, 412)

    def test_all_if_match(self):
        self.client.defaults["HTTP_IF_MATCH"] = "*"
        response = self.client.get("/condition/")
        self.assertFullResponse(response)
        # RFC 9110 §13.1.1: "*" is false when there is no current representation; the
        # view's callables returned None, so there is none, whatever the view answers.
        response = self.client.get("/condition/no_etag/")
        self.assertEqual(response.status_code, 412)

    def test_both_headers(self):
        # See RFC 9110 Section 13.2.2.
        self.client.defaults["HTTP_IF_MODIFIED_SINCE"] = LAST_MODIFIED_STR
        self.client.defaults["HTTP_IF_NONE_MATCH"] = self.ETAG
        response = self.client.get("/condition/")
        self.assertNotModified(response)

        self.client.defaults["HTTP_IF_MODIFIED_SINCE"] = EXPIRED_LAST_MODIFIED_STR
        self.client.defaults["HTTP_IF_NONE_MATCH"] = self.ETAG
        response = self.client.get("/condition/")
        self.assertNotModified(response)

        self.client.defaults["HTTP_IF_MODIFIED_SINCE"] = LAST_MODIFIED_STR
        self.client.defaults["HTTP_IF_NONE_MATCH"] = EXPIRED_ETAG
        response = self.client.get("/condition/")
        self.assertFullResponse(response)

        self.client.defaults["HTTP_IF_MODIFIED_SINCE"] = EXPIRED_LAST_MODIFIED_STR
        self.client.defaults["HTTP_IF_NONE_MATCH"] = EXPIRED_ETAG
        response = self.client.get("/condition/")
        self.assertFullResponse(response)

    def test_both_headers_2(self):
        self.client.defaults["HTTP_IF_UNMODIFIED_SINCE"] = LAST_MODIFIED_STR
        self.client.defaults["HTTP_IF_MATCH"] = self.ETAG
        response = self.client.get("/condition/")
        self.assertFullResponse(response)

        self.client.defaults["HTTP_IF_UNMODIFIED_SINCE"] = EXPIRED_LAST_MODIFIED_STR
        self.client.defaults["HTTP_IF_MATCH"] = self.ETAG
        response = self.client.get("/condition/")
        self.assertFullResponse(response)

        self.client.defaults["HTTP_IF_UNMODIFIED_SINCE"] = EXPIRED_LAST_MODIFIED_STR
        self.client.defaults["HTTP_IF_MATCH"] = EXPIRED_ETAG
        response = self.client.get("/condition/")
        self.assertEqual(response.status_code, 412)

        self.client.defaults["HTTP_IF_UNMODIFIED_SINCE"] = LAST_MODIFIED_STR
        self.client.defaults["HTTP_IF_MATCH"] = EXPIRED_ETAG
        response = self.client.get("/condition/")
        self.assertEqual(response.status_code, 412)

    def test_single_condition_1(self):
        self.client.defaults["HTTP_IF_MODIFIED_SINCE"] = LAST_MODIFIED_STR
        response = self.client.get("/condition/last_modified/")
        self.assertNotModified(response)
        response = self.client.get("/condition/etag/")
        self.assertFullResponse(response, check_last_modified=False)

    def test_single_condition_2(self):
        self.client.defaults["HTTP_IF_NONE_MATCH"] = self.tag("/condition/etag/")
        response = self.client.get("/condition/etag/")
        self.assertNotModified(response)
        response = self.client.get("/condition/last_modified/")
        self.assertFullResponse(response, check_etag=False)

    def test_single_condition_3(self):
        self.client.defaults["HTTP_IF_MODIFIED_SINCE"] = EXPIRED_LAST_MODIFIED_STR
        response = self.client.get("/condition/last_modified/")
        self.assertFullResponse(response, check_etag=False)

    def test_single_condition_4(self):
        self.client.defaults["HTTP_IF_NONE_MATCH"] = EXPIRED_ETAG
        response = self.client.get("/condition/etag/")
        self.assertFullResponse(response, check_last_modified=False)

    def test_single_condition_5(self):
        self.client.defaults["HTTP_IF_MODIFIED_SINCE"] = LAST_MODIFIED_STR
        response = self.client.get("/condition/last_modified2/")
        self.assertNotModified(response)
        response = self.client.get("/condition/etag2/")
        self.assertFullResponse(response, check_last_modified=False)

    def test_single_condition_6(self):
        self.client.defaults["HTTP_IF_NONE_MATCH"] = self.tag("/condition/etag2/")
        response = self.client.get("/condition/etag2/")
        self.assertNotModified(response)
        response = self.client.get("/condition/last_modified2/")
        self.assertFullResponse(response, check_etag=False)

    def test_single_condition_7(self):
        self.client.defaults["HTTP_IF_UNMODIFIED_SINCE"] = EXPIRED_LAST_MODIFIED_STR
        response = self.client.get("/condition/last_modified/")
        self.assertEqual(response.status_code, 412)
        # RFC 9110 §13.1.4: without a Last-Modified, If-Unmodified-Since is ignored
        # (Django answers 412 here).
        response = self.client.get("/condition/etag/")
        self.assertFullResponse(response, check_last_modified=False)

    def test_single_condition_8(self):
        self.client.defaults["HTTP_IF_UNMODIFIED_SINCE"] = LAST_MODIFIED_STR
        response = self.client.get("/condition/last_modified/")
        self.assertFullResponse(response, check_etag=False)

    def test_single_condition_9(self):
        self.client.defaults["HTTP_IF_UNMODIFIED_SINCE"] = EXPIRED_LAST_MODIFIED_STR
        response = self.client.get("/condition/last_modified2/")
        self.assertEqual(response.status_code, 412)
        # RFC 9110 §13.1.4: without a Last-Modified, If-Unmodified-Since is ignored
        # (Django answers 412 here).
        response = self.client.get("/condition/etag2/")
        self.assertFullResponse(response, check_last_modified=False)

    def test_single_condition_head(self):
        self.client.defaults["HTTP_IF_MODIFIED_SINCE"] = LAST_MODIFIED_STR
        response = self.client.head("/condition/")
        self.assertNotModified(response)

    def test_unquoted(self):
        """
        The same quoted ETag should be set on the header regardless of whether
        etag_func() in condition() returns a quoted or an unquoted ETag.
        """
        response_quoted = self.client.get("/condition/etag/")
        response_unquoted = self.client.get("/condition/unquoted_etag/")
        # Adapted: the tag is a hash of the value and the URL, so the two differ; both
        # are well-formed quoted (strong) entity-tags (RFC 9110 §8.8.3).
        self.assertRegex(response_quoted["ETag"], STRONG_TAG)
        self.assertRegex(response_unquoted["ETag"], STRONG_TAG)

    # It's possible that the matching algorithm could use the wrong value even
    # if the ETag header is set correctly correctly (as tested by
    # test_unquoted()), so check that the unquoted value is matched.
    def test_unquoted_if_none_match(self):
        self.client.defaults["HTTP_IF_NONE_MATCH"] = self.tag("/condition/unquoted_etag/")
        response = self.client.get("/condition/unquoted_etag/")
        self.assertNotModified(response)
        response = self.client.put("/condition/unquoted_etag/")
        self.assertEqual(response.status_code, 412)
        self.client.defaults["HTTP_IF_NONE_MATCH"] = EXPIRED_ETAG
        response = self.client.get("/condition/unquoted_etag/")
        self.assertFullResponse(response, check_last_modified=False)

    def test_invalid_etag(self):
        self.client.defaults["HTTP_IF_NONE_MATCH"] = '"""'
        response = self.client.get("/condition/etag/")
        self.assertFullResponse(response, check_last_modified=False)


@override_settings(ROOT_URLCONF="tests.peers.django.urls_sync")
class ConditionalGetSync(ConditionalGetTests, SimpleTestCase):
    """Sync function views."""


@override_settings(ROOT_URLCONF="tests.peers.django.urls_async")
class ConditionalGetAsync(ConditionalGetTests, SimpleTestCase):
    """Async function views, async callables."""


@override_settings(ROOT_URLCONF="tests.peers.django.urls_cbv")
class ConditionalGetClassBased(ConditionalGetTests, SimpleTestCase):
    """Methods of a class-based view."""
