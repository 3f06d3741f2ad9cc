"""CachePolicy parsing/rendering and policy.apply() safety rules (R18-R23)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.functional import SimpleLazyObject

from django_httpcache.policy import CachePolicy, PolicyError, apply, is_credentialed, parse_cache_control

rf = RequestFactory()
CATALOG = CachePolicy.parse(
    {"public": True, "max_age": 60, "s_maxage": 600, "stale_while_revalidate": 30, "stale_if_error": 86400},
    name="catalog",
)
CATALOG_HEADER = "public, max-age=60, s-maxage=600, stale-while-revalidate=30, stale-if-error=86400"


def cc(response) -> str:
    return response.headers.get("Cache-Control", "")


def vary(response) -> list[str]:
    return [v.strip() for v in response.headers.get("Vary", "").split(",") if v.strip()]


def applied(policy, request=None, status=200, **response_headers):
    response = HttpResponse(status=status, headers=response_headers)
    apply(request or rf.get("/"), response, policy)
    return response


# -- parsing ---------------------------------------------------------------------------


def test_dict_and_string_forms_are_equal():
    from_string = CachePolicy.parse(CATALOG_HEADER, name="catalog")
    assert from_string == CATALOG
    assert CATALOG.header == CATALOG_HEADER


def test_every_directive_renders():
    policy = CachePolicy.parse(
        {
            "private": ["Set-Cookie", "X-Token"],
            "no_cache": ["X-Debug"],
            "max_age": 0,
            "must_revalidate": True,
            "proxy_revalidate": True,
            "no_transform": True,
            "stale_while_revalidate": 5,
            "stale_if_error": 10,
        }
    )
    assert policy.header == (
        'private="Set-Cookie, X-Token", no-cache="X-Debug", max-age=0, must-revalidate, '
        "proxy-revalidate, no-transform, stale-while-revalidate=5, stale-if-error=10"
    )
    assert CachePolicy.parse("no-store, must-understand").header == "no-store, must-understand"
    assert CachePolicy.parse("public, max-age=31536000, immutable").header == "public, max-age=31536000, immutable"


def test_r18_field_names_in_quoted_lists_survive_parsing():
    policy = CachePolicy.parse('private="Set-Cookie, Authorization", max-age=10')
    assert policy.private == ("Set-Cookie", "Authorization")
    assert parse_cache_control('no-cache="a, b", max-age=5') == [("no-cache", "a, b"), ("max-age", "5")]


def test_hyphenated_dict_keys_are_accepted():
    assert CachePolicy.parse({"max-age": 5, "public": True}).header == "public, max-age=5"


def test_lenient_parse_skips_junk():
    assert parse_cache_control("max-age=5, ===, public") == [("max-age", "5"), ("public", None)]


@pytest.mark.parametrize(
    ("value", "check_id"),
    [
        (42, "httpcache.E002"),
        ("max-age=5, =broken", "httpcache.E002"),
        ({"max_ag": 5}, "httpcache.E003"),
        ("public, frobnicate", "httpcache.E003"),
        ({"public": True, "private": True}, "httpcache.E004"),  # R18
        ("no-store, max-age=60", "httpcache.E005"),  # R18
        ({"no_store": True, "public": True}, "httpcache.E005"),
        ({"max_age": -1}, "httpcache.E006"),  # R18
        ({"s_maxage": 1.5}, "httpcache.E006"),
        ({"max_age": "soon"}, "httpcache.E006"),
        ({"stale_if_error": True}, "httpcache.E006"),  # R22: seconds
        ("immutable", "httpcache.E007"),  # R22
        ("public, must-understand", "httpcache.E008"),  # R22
        ({"public": "yes"}, "httpcache.E009"),
        ({"private": ["bad header"]}, "httpcache.E009"),
        ({"vary": 7}, "httpcache.E009"),
    ],
)
def test_invalid_policies(value, check_id):
    ids = [p.id for p in CachePolicy.problems(value, name="x")]
    assert check_id in ids
    with pytest.raises(PolicyError):
        CachePolicy.parse(value, name="x")


def test_r22_immutable_with_short_max_age_warns():
    problems = CachePolicy.problems("public, max-age=60, immutable", name="x")
    assert [(p.id, p.warning) for p in problems] == [("httpcache.W003", True)]
    CachePolicy.parse("public, max-age=60, immutable")  # a warning does not stop it


def test_messages_name_the_policy_and_key():
    (problem,) = CachePolicy.problems({"max_age": -5}, name="catalog")
    assert "HTTPCACHE['POLICIES']['catalog']" in problem.msg and "max_age" in problem.msg


# -- apply: the plain case ---------------------------------------------------------------


def test_apply_writes_the_policy():
    assert cc(applied(CATALOG)) == CATALOG_HEADER
    assert vary(applied(CATALOG)) == []


def test_apply_none_leaves_response_alone():
    response = applied(None)
    assert "Cache-Control" not in response.headers


def test_r19_policy_vary():
    policy = CachePolicy.parse({"public": True, "max_age": 5, "vary": ["Accept-Language"]})
    assert vary(applied(policy)) == ["Accept-Language"]


def test_r19_private_policy_varies_on_credentials():
    policy = CachePolicy.parse("private, no-cache")
    response = applied(policy)
    assert cc(response) == "private, no-cache"
    assert vary(response) == ["Authorization", "Cookie"]


# -- R20 / R21: never shareable when it depends on who asks ------------------------------


def test_r20_authorization_header_downgrades_to_private():
    response = applied(CATALOG, rf.get("/", headers={"authorization": "Basic ZGVtbzpkZW1v"}))
    assert cc(response) == "private, max-age=60, stale-while-revalidate=30, stale-if-error=86400"
    assert "Authorization" in vary(response)


@pytest.mark.parametrize("header", ["public, max-age=5", "s-maxage=5", "max-age=5", "must-revalidate"])
def test_r20_shared_directives_never_reach_authenticated_responses(header):
    policy = CachePolicy.parse(header)
    response = applied(policy, rf.get("/", headers={"authorization": "Bearer x"}))
    directives = dict(parse_cache_control(cc(response)))
    assert "public" not in directives and "s-maxage" not in directives
    assert "private" in directives


def test_r21_session_cookie_downgrades():
    request = rf.get("/")
    request.COOKIES["sessionid"] = "abc"
    response = applied(CATALOG, request)
    assert cc(response).startswith("private,") and "s-maxage" not in cc(response)
    assert "Cookie" in vary(response)


def test_r21_other_cookies_do_not_downgrade():
    request = rf.get("/")
    request.COOKIES["csrftoken"] = "abc"
    assert cc(applied(CATALOG, request)) == CATALOG_HEADER


def test_r21_resolved_user_downgrades():
    request = rf.get("/")
    request.user = User(username="u")
    assert cc(applied(CATALOG, request)).startswith("private,")


def test_r21_anonymous_user_does_not_downgrade():
    request = rf.get("/")
    request.user = AnonymousUser()
    assert cc(applied(CATALOG, request)) == CATALOG_HEADER


def test_r21_lazy_user_is_not_evaluated():
    evaluated = []

    def load():
        evaluated.append(True)
        return AnonymousUser()

    request = rf.get("/")
    request.user = SimpleLazyObject(load)
    assert not is_credentialed(request)
    assert evaluated == []


def test_r21_set_cookie_downgrades():
    response = HttpResponse()
    response.set_cookie("flavour", "oatmeal")
    apply(rf.get("/"), response, CATALOG)
    assert cc(response).startswith("private,") and "public" not in cc(response)


def test_r21_force_shared_keeps_public():
    policy = CachePolicy.parse({"public": True, "max_age": 30, "force_shared": True})
    response = applied(policy, rf.get("/", headers={"authorization": "Bearer x"}))
    assert cc(response) == "public, max-age=30"


def test_r21_field_private_becomes_fully_private():
    policy = CachePolicy.parse('private="Set-Cookie", max-age=60')
    response = applied(policy, rf.get("/", headers={"authorization": "Bearer x"}))
    assert cc(response) == "private, max-age=60"


def test_no_store_stays_no_store_when_credentialed():
    policy = CachePolicy.parse("no-store")
    assert cc(applied(policy, rf.get("/", headers={"authorization": "x"}))) == "no-store"


# -- R23: errors get no freshness ------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 403, 405, 409, 412, 428, 429, 500, 502, 503])
def test_r23_errors_get_no_freshness(status):
    response = applied(CATALOG, status=status)
    assert cc(response) == "no-cache"


@pytest.mark.parametrize("status", [302, 303, 307])
def test_r23_temporary_redirects_get_no_freshness(status):
    assert cc(applied(CATALOG, status=status)) == "no-cache"


@pytest.mark.parametrize("status", [200, 203, 204, 301, 308, 404, 410])
def test_r23_others_keep_the_policy(status):
    assert cc(applied(CATALOG, status=status)) == CATALOG_HEADER


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_policies_apply_to_get_and_head_only(method):
    request = rf.generic(method, "/")
    response = HttpResponse()
    apply(request, response, CATALOG)
    assert "Cache-Control" not in response.headers
    response = HttpResponse(headers={"Cache-Control": "public, max-age=5"})
    apply(rf.generic(method, "/", headers={"authorization": "x"}), response, CATALOG)
    assert cc(response) == "private, max-age=5"  # the privacy rule still holds


def test_w006_private_with_shared_only_directives():
    problems = CachePolicy.problems("private, s-maxage=60", name="x")
    assert [(p.id, p.warning) for p in problems] == [("httpcache.W006", True)]


def test_inline_policy_messages_do_not_name_settings():
    with pytest.raises(PolicyError) as info:
        CachePolicy.parse({"max_age": -1}, name="<inline policy of views.x>")
    assert "HTTPCACHE" not in str(info.value) and "views.x" in str(info.value)


@pytest.mark.parametrize("status", [301, 308, 404, 410])
def test_immutable_policies_give_other_answers_no_freshness(status):
    static = CachePolicy.parse("public, max-age=31536000, immutable")
    assert cc(applied(static, status=status)) == "no-cache"
    assert cc(applied(static, status=200)) == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("status", [404, 410])
def test_r23_404_and_410_keep_the_policy(status):
    assert cc(applied(CATALOG, status=status)) == CATALOG_HEADER


def test_r23_private_and_no_store_errors_keep_their_privacy():
    assert cc(applied(CachePolicy.parse("private, max-age=60"), status=500)) == "private, no-cache"
    assert cc(applied(CachePolicy.parse("no-store"), status=500)) == "no-store"
    request = rf.get("/", headers={"authorization": "x"})
    assert cc(applied(CATALOG, request, status=403)) == "private, no-cache"


# -- the merge rule: the view's own Cache-Control wins ----------------------------------------


def test_view_cache_control_is_kept():
    response = applied(CATALOG, **{"Cache-Control": "max-age=5"})
    assert cc(response) == "max-age=5"


def test_view_cache_control_still_gets_the_privacy_rule():
    request = rf.get("/", headers={"authorization": "x"})
    response = applied(CATALOG, request, **{"Cache-Control": 'public, s-maxage=99, max-age=5, no-cache="X"'})
    assert cc(response) == "private, max-age=5, no-cache=X"
    assert "Authorization" in vary(response)


def test_view_cache_control_privacy_without_policy():
    request = rf.get("/", headers={"authorization": "x"})
    response = applied(None, request, **{"Cache-Control": "public, max-age=5"})
    assert cc(response) == "private, max-age=5"


def test_view_private_header_untouched():
    request = rf.get("/", headers={"authorization": "x"})
    assert cc(applied(None, request, **{"Cache-Control": "private, max-age=5"})) == "private, max-age=5"


def test_apply_twice_first_policy_wins_and_sees_new_cookies():
    request = rf.get("/")
    response = HttpResponse()
    apply(request, response, CATALOG)
    assert cc(response) == CATALOG_HEADER
    response.set_cookie("late", "1")  # e.g. by middleware outside the view
    apply(request, response, CachePolicy.parse("no-store"))
    assert cc(response).startswith("private, max-age=60")
