"""R18-R23: Cache-Control and Vary, through the decorator, the middleware rules and DRF."""

from __future__ import annotations

import pytest

from django_httpcache.policy import parse_cache_control

POLICIES = ["static", "catalog", "user", "sensitive", "localized"]
SURFACES = ["decorator", "middleware", "drf"]
SHARED = {"public", "s-maxage", "proxy-revalidate"}


@pytest.fixture
def fetch(client, settings, state):
    """``fetch(surface, policy, status=200, **headers)`` -> response."""

    def run(surface: str, policy: str, status: int = 200, **headers: str):
        headers = {k.replace("_", "-"): v for k, v in headers.items()}
        state["status"] = status
        if surface == "decorator":
            return client.get(f"/{policy}/", headers=headers)
        if surface == "middleware":
            settings.HTTPCACHE = {**settings.HTTPCACHE, "DEFAULT_POLICY": policy}
            return client.get("/plain/", headers=headers)
        return client.get(
            f"/api/policy/?policy={policy}&status={status}", headers={"accept": "application/json", **headers}
        )

    return run


def directives(response) -> dict[str, str | None]:
    return dict(parse_cache_control(response.headers.get("Cache-Control", "")))


def vary(response) -> set[str]:
    return {v.strip().lower() for v in response.headers.get("Vary", "").split(",") if v.strip()}


pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("policy", POLICIES)
def test_r18_rendered_directives_are_consistent(fetch, surface, policy):
    found = directives(fetch(surface, policy))
    assert not ({"public", "private"} <= found.keys())
    if "no-store" in found:
        assert found.keys() <= {"no-store", "must-understand", "private"}
    for name in ("max-age", "s-maxage", "stale-while-revalidate", "stale-if-error"):
        if name in found:
            assert found[name].isdigit(), (name, found[name])


@pytest.mark.parametrize("surface", SURFACES)
def test_r19_vary_for_language(fetch, surface):
    assert "accept-language" in vary(fetch(surface, "localized"))


@pytest.mark.parametrize("surface", SURFACES)
def test_r19_vary_for_private_responses(fetch, surface):
    assert {"cookie", "authorization"} <= vary(fetch(surface, "user"))


def test_r19_vary_for_content_negotiation(fetch):
    assert "accept" in vary(fetch("drf", "catalog"))


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("policy", POLICIES)
def test_r20_authorization_never_shared(fetch, surface, policy):
    response = fetch(surface, policy, authorization="Basic bm9ib2R5Om5vcGU=")
    found = directives(response)
    assert not SHARED & found.keys()
    assert "private" in found or "no-store" in found


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("policy", POLICIES)
def test_r21_session_user_never_shared(fetch, client, django_user_model, surface, policy):
    client.force_login(django_user_model.objects.create_user("sam", password="pw"))
    found = directives(fetch(surface, policy))
    assert not SHARED & found.keys()
    assert "private" in found or "no-store" in found


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("policy", POLICIES)
def test_r21_set_cookie_never_shared(fetch, state, surface, policy):
    state["cookie"] = True
    response = fetch(surface, policy)
    assert "flavour" in response.cookies
    found = directives(response)
    assert not SHARED & found.keys()
    assert "private" in found or "no-store" in found


@pytest.mark.parametrize("surface", SURFACES)
def test_r22_immutable_with_a_long_max_age(fetch, surface):
    found = directives(fetch(surface, "static"))
    assert "immutable" in found and int(found["max-age"]) >= 86400


def test_r22_bad_combinations_are_refused():
    from django_httpcache.policy import CachePolicy

    ids = {p.id for value in ("immutable", "public, must-understand", "max-age=x") for p in CachePolicy.problems(value)}
    assert {"httpcache.E006", "httpcache.E007", "httpcache.E008"} <= ids


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("status", [400, 403, 405, 409, 429, 500, 503, 302])
def test_r23_errors_get_no_freshness(fetch, surface, status):
    found = directives(fetch(surface, "catalog", status=status))
    assert not {"max-age", "s-maxage", "stale-while-revalidate", "stale-if-error", "immutable", "public"} & found.keys()


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize("status", [404, 410])
def test_r23_404_and_410_keep_the_policy(fetch, surface, status):
    assert "max-age" in directives(fetch(surface, "catalog", status=status))
