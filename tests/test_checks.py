"""System checks: every id (httpcache.E0xx / W0xx)."""

from __future__ import annotations

import pytest
from django.core import checks
from django.test import override_settings

from django_httpcache.checks import check_middleware, check_settings, check_views

OK_POLICIES = {"catalog": "public, max-age=60", "user": "private, no-cache"}
OUR_MIDDLEWARE = "django_httpcache.middleware.HttpCacheMiddleware"


def ids(messages) -> list[str]:
    return sorted({m.id for m in messages})


def run(**httpcache):
    with override_settings(HTTPCACHE=httpcache):
        return check_settings()


def test_valid_settings_have_no_problems(settings):
    assert check_settings() == []
    assert check_middleware() == []


def test_checks_are_registered():
    registered = checks.run_checks(tags=["httpcache"])
    # tests.testapp.views.unknown_policy names a policy that does not exist, and
    # tests.shapes.Stamped has an updated-at without auto_now and no version field.
    assert ids(registered) == ["httpcache.E015", "httpcache.W008"]


@pytest.mark.parametrize(
    ("httpcache", "expected"),
    [
        ({"POLICIES": {"x": 42}}, "httpcache.E002"),
        ({"POLICIES": {"x": "max-age=5, =x"}}, "httpcache.E002"),
        ({"POLICIES": {"x": {"max_ag": 5}}}, "httpcache.E003"),
        ({"POLICIES": {"x": "public, private"}}, "httpcache.E004"),
        ({"POLICIES": {"x": "no-store, max-age=5"}}, "httpcache.E005"),
        ({"POLICIES": {"x": {"max_age": -1}}}, "httpcache.E006"),
        ({"POLICIES": {"x": {"max_age": 1.5}}}, "httpcache.E006"),
        ({"POLICIES": {"x": "public, immutable"}}, "httpcache.E007"),
        ({"POLICIES": {"x": "max-age=5, must-understand"}}, "httpcache.E008"),
        ({"POLICIES": {"x": {"public": 1}}}, "httpcache.E009"),
        ({"POLICIES": OK_POLICIES, "RULES": ["junk"]}, "httpcache.E010"),
        ({"POLICIES": OK_POLICIES, "RULES": [{"policy": "catalog"}]}, "httpcache.E010"),
        ({"POLICIES": OK_POLICIES, "RULES": [{"path": "^/", "policy": "catalog", "x": 1}]}, "httpcache.E010"),
        ({"POLICIES": OK_POLICIES, "RULES": [{"path": "([", "policy": "catalog"}]}, "httpcache.E011"),
        ({"POLICIES": OK_POLICIES, "RULES": [{"path": "^/", "policy": "nope"}]}, "httpcache.E012"),
        ({"POLICIES": OK_POLICIES, "DEFAULT_POLICY": "nope"}, "httpcache.E013"),
        ({"POLICIES": OK_POLICIES, "DEFAULT_POLICY": 5}, "httpcache.E013"),
        ({"BODY_ETAG": "yes"}, "httpcache.E014"),
        ({"BODY_ETAG_ALGORITHM": "rot13"}, "httpcache.E014"),
        ({"BODY_ETAG_ALGORITHM": "shake_128"}, "httpcache.E014"),
        ({"POLICIES": ["catalog"]}, "httpcache.E014"),
        ({"ETAGGERS": ["no.such.module.func"]}, "httpcache.E016"),
        ({"ETAGGERS": [42]}, "httpcache.E016"),
        ({"POLICIES": {"x": "public, max-age=60, immutable"}}, "httpcache.W003"),
    ],
)
def test_each_check_id(httpcache, expected):
    assert ids(run(**httpcache)) == [expected]


def test_not_a_dict():
    with override_settings(HTTPCACHE=["nope"]):
        assert ids(check_settings()) == ["httpcache.E001"]


def test_unknown_key():
    (message,) = run(POLICY={})
    assert message.id == "httpcache.E001" and "POLICY" in message.msg


def test_messages_name_the_setting():
    (message,) = run(POLICIES={"catalog": {"max_age": -1}})
    assert "HTTPCACHE['POLICIES']['catalog']" in message.msg
    (message,) = run(POLICIES=OK_POLICIES, RULES=[{"path": "^/", "policy": "nope"}])
    assert "HTTPCACHE['RULES'][0]" in message.msg and "'nope'" in message.msg


def test_warnings_are_warnings():
    (message,) = run(POLICIES={"x": "public, max-age=60, immutable"})
    assert isinstance(message, checks.Warning)


def test_e015_view_names_unknown_policy():
    (message,) = check_views()
    assert message.id == "httpcache.E015"
    assert "tests.testapp.views.unknown_policy" in message.msg and "no-such-policy" in message.msg


def test_w001_gzip_after_our_middleware():
    with override_settings(MIDDLEWARE=[OUR_MIDDLEWARE, "django.middleware.gzip.GZipMiddleware"]):
        assert ids(check_middleware()) == ["httpcache.W001"]
    with override_settings(MIDDLEWARE=["django.middleware.gzip.GZipMiddleware", OUR_MIDDLEWARE]):
        assert check_middleware() == []


def test_w002_cookie_setting_middleware_outside_ours():
    middleware = ["django.contrib.sessions.middleware.SessionMiddleware", OUR_MIDDLEWARE]
    with override_settings(MIDDLEWARE=middleware):
        (message,) = check_middleware()
    assert message.id == "httpcache.W002" and "SessionMiddleware" in message.msg


def test_w007_common_middleware_outside_ours():
    with override_settings(MIDDLEWARE=["django.middleware.common.CommonMiddleware", OUR_MIDDLEWARE]):
        assert ids(check_middleware()) == ["httpcache.W007"]


def test_e015_on_class_based_view_methods(monkeypatch):
    from tests.testapp.views import ProductView

    monkeypatch.setattr(ProductView.get, "httpcache_policy", "ghost", raising=False)
    messages = check_views()
    assert any("ghost" in m.msg and "on get" in m.msg for m in messages)


def test_w004_conditional_get_middleware():
    with override_settings(MIDDLEWARE=[OUR_MIDDLEWARE, "django.middleware.http.ConditionalGetMiddleware"]):
        assert ids(check_middleware()) == ["httpcache.W004"]


def test_middleware_checks_silent_without_our_middleware():
    with override_settings(MIDDLEWARE=["django.middleware.http.ConditionalGetMiddleware"]):
        assert check_middleware() == []


# -- model versions ---------------------------------------------------------------------------

LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


def version_ids(**overrides):
    from django_httpcache.checks import check_versions

    with override_settings(**overrides):
        return ids(check_versions())


def test_e020_counter_mode_on_a_per_process_store():
    settings = {"HTTPCACHE": {"VERSION_MODE": "counter"}, "CACHES": {"default": LOCMEM}}
    assert version_ids(**settings) == ["httpcache.E020"]
    assert version_ids(DEBUG=True, **settings) == []  # one process in development
    dummy = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert version_ids(HTTPCACHE={"VERSION_MODE": "counter"}, CACHES=dummy) == ["httpcache.E020"]


def test_e020_names_the_alias_and_backend():
    from django_httpcache.checks import check_versions

    with override_settings(HTTPCACHE={"VERSION_MODE": "counter"}, CACHES={"default": LOCMEM}):
        (message,) = check_versions()
    assert "CACHES['default']" in message.msg and "LocMemCache" in message.msg


def test_e021_unknown_version_cache():
    assert version_ids(HTTPCACHE={"VERSION_MODE": "counter", "VERSION_CACHE": "nope"}) == ["httpcache.E021"]


def test_w005_file_based_store():
    caches = {
        "default": LOCMEM,
        "v": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": "/tmp/x"},
    }
    assert version_ids(HTTPCACHE={"VERSION_MODE": "counter", "VERSION_CACHE": "v"}, CACHES=caches) == ["httpcache.W005"]


def test_shared_stores_are_fine():
    redis = {
        "default": LOCMEM,
        "v": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x"},
    }
    assert version_ids(HTTPCACHE={"VERSION_MODE": "counter", "VERSION_CACHE": "v"}, CACHES=redis) == []
    assert version_ids(HTTPCACHE={"VERSION_MODE": "aggregate"}, CACHES={"default": LOCMEM}) == []


def test_e022_untracked_model(monkeypatch):
    from django_httpcache import versions
    from django_httpcache.checks import untracked_problems
    from tests.testapp.models import Tag

    assert untracked_problems() == []
    monkeypatch.setattr(versions.registry, "_tracked", versions.registry._tracked - {Tag})
    problems = untracked_problems()
    assert {p.id for p in problems} == {"httpcache.E022"}
    assert any("testapp.tag" in p.msg and "ArticleViewSet" in p.msg for p in problems)
