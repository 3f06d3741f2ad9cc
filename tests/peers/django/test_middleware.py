"""Django's ConditionalGetMiddleware and ETag/GZip tests, run against ``HttpCacheMiddleware``.

Adapted from Django 5.2.19 (stable/5.2.x; the ``django-5.2.19`` sdist on PyPI),
``tests/middleware/tests.py``: the class ``ConditionalGetMiddlewareTest`` (all of it)
and ``ETagGZipMiddlewareTest`` (all of it). ``GZipMiddlewareTest`` has no case that
involves an ETag.

Copyright (c) Django Software Foundation and individual contributors.
All rights reserved. Django is BSD-3-Clause licensed; these tests are adapted from it
(names, docstrings and comments kept, so each maps to Django's).

As in Django, the middleware is instantiated directly with a ``get_response``. That
``get_response`` goes through the test client with Django's own test-runner middleware
(``runtests.py``'s ``ALWAYS_MIDDLEWARE``), so no ``HttpCacheMiddleware`` runs inside it.

Adaptations, marked ``# Adapted:`` or ``# RFC`` where they occur:

- HEAD gets the ETag of the GET, and a 304 (RFC 9110 §9.3.2); Django gives HEAD none
  (test_no_head).
- The app hashes empty bodies too: an empty representation is one like any other and
  may have an entity-tag (RFC 9110 §8.8.3); Django skips them
  (test_no_etag_response_empty_content).
- A 304 repeats the headers of the 200 the middleware would have sent (RFC 9110
  §15.4.5), after the app's privacy rule: that 200 is the reference, not the raw view
  response (test_not_modified_headers).
"""

# Django's unittest-style text is kept so each line maps to the original.
# ruff: noqa: PT009

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.middleware.gzip import GZipMiddleware
from django.test import RequestFactory, SimpleTestCase, override_settings

from django_httpcache.middleware import HttpCacheMiddleware

# Django's tests/runtests.py ALWAYS_MIDDLEWARE: the stack its test client runs through.
DJANGO_TEST_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]


@override_settings(ROOT_URLCONF="tests.peers.django.cond_get_urls", MIDDLEWARE=DJANGO_TEST_MIDDLEWARE)
class ConditionalGetMiddlewareTest(SimpleTestCase):
    request_factory = RequestFactory()

    def setUp(self):
        self.req = self.request_factory.get("/")
        self.resp_headers = {}

    def get_response(self, req):
        resp = self.client.get(req.path_info)
        for key, value in self.resp_headers.items():
            resp[key] = value
        return resp

    # Tests for the ETag header

    def test_middleware_calculates_etag(self):
        resp = HttpCacheMiddleware(self.get_response)(self.req)
        self.assertEqual(resp.status_code, 200)
        self.assertNotEqual("", resp["ETag"])

    def test_middleware_wont_overwrite_etag(self):
        self.resp_headers["ETag"] = "eggs"
        resp = HttpCacheMiddleware(self.get_response)(self.req)
        self.assertEqual(resp.status_code, 200)
        self.assertEqual("eggs", resp["ETag"])

    def test_no_etag_streaming_response(self):
        def get_response(req):
            return StreamingHttpResponse(["content"])

        self.assertFalse(HttpCacheMiddleware(get_response)(self.req).has_header("ETag"))

    def test_no_etag_response_empty_content(self):
        def get_response(req):
            return HttpResponse()

        # Adapted: the app gives an empty 200 a tag like any other representation
        # (RFC 9110 §8.8.3), and revalidates it; Django sends no ETag.
        response = HttpCacheMiddleware(get_response)(self.req)
        self.assertTrue(response.has_header("ETag"))
        self.req.META["HTTP_IF_NONE_MATCH"] = response["ETag"]
        self.assertEqual(HttpCacheMiddleware(get_response)(self.req).status_code, 304)

    def test_no_etag_no_store_cache(self):
        self.resp_headers["Cache-Control"] = "No-Cache, No-Store, Max-age=0"
        self.assertFalse(HttpCacheMiddleware(self.get_response)(self.req).has_header("ETag"))

    def test_etag_extended_cache_control(self):
        # RFC 9111 §5.2.3: an extension directive is not no-store, whatever its value says.
        self.resp_headers["Cache-Control"] = 'my-directive="my-no-store"'
        self.assertTrue(HttpCacheMiddleware(self.get_response)(self.req).has_header("ETag"))

    def test_if_none_match_and_no_etag(self):
        self.req.META["HTTP_IF_NONE_MATCH"] = "spam"
        resp = HttpCacheMiddleware(self.get_response)(self.req)
        self.assertEqual(resp.status_code, 200)

    def test_no_if_none_match_and_etag(self):
        self.resp_headers["ETag"] = "eggs"
        resp = HttpCacheMiddleware(self.get_response)(self.req)
        self.assertEqual(resp.status_code, 200)

    def test_if_none_match_and_same_etag(self):
        self.req.META["HTTP_IF_NONE_MATCH"] = '"spam"'
        self.resp_headers["ETag"] = '"spam"'
        resp = HttpCacheMiddleware(self.get_response)(self.req)
        self.assertEqual(resp.status_code, 304)

    def test_if_none_match_and_different_etag(self):
        self.req.META["HTTP_IF_NONE_MATCH"] = "spam"
        self.resp_headers["ETag"] = "eggs"
        resp = HttpCacheMiddleware(self.get_response)(self.req)
        self.assertEqual(resp.status_code, 200)

    def test_if_none_match_and_redirect(self):
        def get_response(req):
            resp = self.client.get(req.path_info)
            resp["ETag"] = "spam"
            resp["Location"] = "/"
            resp.status_code = 301
            return resp

        self.req.META["HTTP_IF_NONE_MATCH"] = "spam"
        resp = HttpCacheMiddleware(get_response)(self.req)
        self.assertEqual(resp.status_code, 301)

    def test_if_none_match_and_client_error(self):
        def get_response(req):
            resp = self.client.get(req.path_info)
            resp["ETag"] = "spam"
            resp.status_code = 400
            return resp

        self.req.META["HTTP_IF_NONE_MATCH"] = "spam"
        resp = HttpCacheMiddleware(get_response)(self.req)
        self.assertEqual(resp.status_code, 400)

    # Tests for the Last-Modified header

    def test_if_modified_since_and_no_last_modified(self):
        self.req.META["HTTP_IF_MODIFIED_SINCE"] = "Sat, 12 Feb 2011 17:38:44 GMT"
        resp = HttpCacheMiddleware(self.get_response)(self.req)
        self.assertEqual(resp.status_code, 200)

    def test_no_if_modified_since_and_last_modified(self):
        self.resp_headers["Last-Modified"] = "Sat, 12 Feb 2011 17:38:44 GMT"
        resp = HttpCacheMiddleware(self.get_response)(self.req)
        self.assertEqual(resp.status_code, 200)

    def test_if_modified_since_and_same_last_modified(self):
        self.req.META["HTTP_IF_MODIFIED_SINCE"] = "Sat, 12 Feb 2011 17:38:44 GMT"
        self.resp_headers["Last-Modified"] = "Sat, 12 Feb 2011 17:38:44 GMT"
        self.resp = HttpCacheMiddleware(self.get_response)(self.req)
        self.assertEqual(self.resp.status_code, 304)

    def test_if_modified_since_and_last_modified_in_the_past(self):
        self.req.META["HTTP_IF_MODIFIED_SINCE"] = "Sat, 12 Feb 2011 17:38:44 GMT"
        self.resp_headers["Last-Modified"] = "Sat, 12 Feb 2011 17:35:44 GMT"
        resp = HttpCacheMiddleware(self.get_response)(self.req)
        self.assertEqual(resp.status_code, 304)

    def test_if_modified_since_and_last_modified_in_the_future(self):
        self.req.META["HTTP_IF_MODIFIED_SINCE"] = "Sat, 12 Feb 2011 17:38:44 GMT"
        self.resp_headers["Last-Modified"] = "Sat, 12 Feb 2011 17:41:44 GMT"
        self.resp = HttpCacheMiddleware(self.get_response)(self.req)
        self.assertEqual(self.resp.status_code, 200)

    def test_if_modified_since_and_redirect(self):
        def get_response(req):
            resp = self.client.get(req.path_info)
            resp["Last-Modified"] = "Sat, 12 Feb 2011 17:35:44 GMT"
            resp["Location"] = "/"
            resp.status_code = 301
            return resp

        self.req.META["HTTP_IF_MODIFIED_SINCE"] = "Sat, 12 Feb 2011 17:38:44 GMT"
        resp = HttpCacheMiddleware(get_response)(self.req)
        self.assertEqual(resp.status_code, 301)

    def test_if_modified_since_and_client_error(self):
        def get_response(req):
            resp = self.client.get(req.path_info)
            resp["Last-Modified"] = "Sat, 12 Feb 2011 17:35:44 GMT"
            resp.status_code = 400
            return resp

        self.req.META["HTTP_IF_MODIFIED_SINCE"] = "Sat, 12 Feb 2011 17:38:44 GMT"
        resp = HttpCacheMiddleware(get_response)(self.req)
        self.assertEqual(resp.status_code, 400)

    def test_not_modified_headers(self):
        """
        The 304 Not Modified response should include only the headers required
        by RFC 9110 Section 15.4.5, Last-Modified, and the cookies.
        """

        def get_response(req):
            resp = self.client.get(req.path_info)
            resp["Date"] = "Sat, 12 Feb 2011 17:35:44 GMT"
            resp["Last-Modified"] = "Sat, 12 Feb 2011 17:35:44 GMT"
            resp["Expires"] = "Sun, 13 Feb 2011 17:35:44 GMT"
            resp["Vary"] = "Cookie"
            resp["Cache-Control"] = "public"
            resp["Content-Location"] = "/alt"
            resp["Content-Language"] = "en"  # shouldn't be preserved
            resp["ETag"] = '"spam"'
            resp.set_cookie("key", "value")
            return resp

        self.req.META["HTTP_IF_NONE_MATCH"] = '"spam"'

        new_response = HttpCacheMiddleware(get_response)(self.req)
        self.assertEqual(new_response.status_code, 304)
        # Adapted: the 200 the middleware sends without If-None-Match (RFC 9110
        # §15.4.5); its privacy rule makes a cookie-setting "public" response private.
        base_response = HttpCacheMiddleware(get_response)(self.request_factory.get("/"))
        self.assertEqual(base_response.status_code, 200)
        for header in (
            "Cache-Control",
            "Content-Location",
            "Date",
            "ETag",
            "Expires",
            "Last-Modified",
            "Vary",
        ):
            self.assertEqual(new_response.headers[header], base_response.headers[header])
        self.assertEqual(new_response.cookies, base_response.cookies)
        self.assertNotIn("Content-Language", new_response)

    def test_no_unsafe(self):
        """
        ConditionalGetMiddleware shouldn't return a conditional response on an
        unsafe request. A response has already been generated by the time
        ConditionalGetMiddleware is called, so it's too late to return a 412
        Precondition Failed.
        """

        def get_200_response(req):
            return HttpResponse(status=200)

        response = HttpCacheMiddleware(self.get_response)(self.req)
        etag = response.headers["ETag"]
        put_request = self.request_factory.put("/", headers={"if-match": etag})
        conditional_get_response = HttpCacheMiddleware(get_200_response)(put_request)
        self.assertEqual(conditional_get_response.status_code, 200)  # should never be a 412

    def test_no_head(self):
        """
        ConditionalGetMiddleware shouldn't compute and return an ETag on a
        HEAD request since it can't do so accurately without access to the
        response body of the corresponding GET.
        """

        def get_200_response(req):
            return HttpResponse(status=200)

        # RFC 9110 §9.3.2: a HEAD gets the header fields of the GET, its ETag
        # included, and (§13.2.1) the same 304. The middleware sees the body before
        # the handler strips it from the HEAD response, so the hash is the GET's.
        get_response = HttpCacheMiddleware(get_200_response)(self.request_factory.get("/"))
        request = self.request_factory.head("/")
        conditional_get_response = HttpCacheMiddleware(get_200_response)(request)
        self.assertEqual(conditional_get_response["ETag"], get_response["ETag"])
        request = self.request_factory.head("/", headers={"if-none-match": get_response["ETag"]})
        self.assertEqual(HttpCacheMiddleware(get_200_response)(request).status_code, 304)


# Adapted: the documented order, GZipMiddleware above HttpCacheMiddleware; the app reads
# MIDDLEWARE to give its 304s what GZip gives the 200.
@override_settings(
    MIDDLEWARE=["django.middleware.gzip.GZipMiddleware", "django_httpcache.middleware.HttpCacheMiddleware"]
)
class ETagGZipMiddlewareTest(SimpleTestCase):
    """
    ETags are handled properly by GZipMiddleware.
    """

    rf = RequestFactory()
    compressible_string = b"a" * 500

    def test_strong_etag_modified(self):
        """
        GZipMiddleware makes a strong ETag weak.
        """

        def get_response(req):
            response = HttpResponse(self.compressible_string)
            response.headers["ETag"] = '"eggs"'
            return response

        request = self.rf.get("/", headers={"accept-encoding": "gzip, deflate"})
        # Adapted: with HttpCacheMiddleware below GZipMiddleware.
        gzip_response = GZipMiddleware(HttpCacheMiddleware(get_response))(request)
        self.assertEqual(gzip_response.headers["ETag"], 'W/"eggs"')

    def test_weak_etag_not_modified(self):
        """
        GZipMiddleware doesn't modify a weak ETag.
        """

        def get_response(req):
            response = HttpResponse(self.compressible_string)
            response.headers["ETag"] = 'W/"eggs"'
            return response

        request = self.rf.get("/", headers={"accept-encoding": "gzip, deflate"})
        # Adapted: with HttpCacheMiddleware below GZipMiddleware.
        gzip_response = GZipMiddleware(HttpCacheMiddleware(get_response))(request)
        self.assertEqual(gzip_response.headers["ETag"], 'W/"eggs"')

    def test_etag_match(self):
        """
        GZipMiddleware allows 304 Not Modified responses.
        """

        def get_response(req):
            return HttpResponse(self.compressible_string)

        def get_cond_response(req):
            return HttpCacheMiddleware(get_response)(req)

        request = self.rf.get("/", headers={"accept-encoding": "gzip, deflate"})
        response = GZipMiddleware(get_cond_response)(request)
        gzip_etag = response.headers["ETag"]
        next_request = self.rf.get(
            "/",
            headers={"accept-encoding": "gzip, deflate", "if-none-match": gzip_etag},
        )
        next_response = HttpCacheMiddleware(get_response)(next_request)
        self.assertEqual(next_response.status_code, 304)
