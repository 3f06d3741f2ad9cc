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


def test_e015_is_a_warning_that_says_what_runtime_does():
    (message,) = check_views()
    assert isinstance(message, checks.Warning) and "no-store" in message.msg


def test_e015_view_names_unknown_policy():
    (message,) = check_views()
    assert message.id == "httpcache.E015"
    assert "tests.testapp.views.unknown_policy" in message.msg and "no-such-policy" in message.msg


def test_w001_gzip_after_our_middleware():
    with override_settings(MIDDLEWARE=[OUR_MIDDLEWARE, "django.middleware.gzip.GZipMiddleware"]):
        assert ids(check_middleware()) == ["httpcache.W001"]
    with override_settings(MIDDLEWARE=["django.middleware.gzip.GZipMiddleware", OUR_MIDDLEWARE]):
        assert check_middleware() == []


def test_django_cookie_setters_outside_ours_are_foreseen():
    # Their cookies are foreseen by policy.apply() (tests/test_cookies.py): no W002 any more.
    middleware = [
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        OUR_MIDDLEWARE,
    ]
    with override_settings(MIDDLEWARE=middleware):
        assert check_middleware() == []


class SetsCookie:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.set_cookie("ab-test", "b")
        return response


def test_e024_unforeseeable_cookie_setter_outside_ours_is_an_error():
    cookie_setter = f"{__name__}.SetsCookie"
    with override_settings(MIDDLEWARE=[cookie_setter, OUR_MIDDLEWARE]):
        (message,) = check_middleware()
    assert message.id == "httpcache.E024" and isinstance(message, checks.Error)
    assert "SetsCookie" in message.msg
    with override_settings(MIDDLEWARE=[OUR_MIDDLEWARE, cookie_setter]):
        assert check_middleware() == []


def test_w007_common_middleware_outside_ours():
    with override_settings(MIDDLEWARE=["django.middleware.common.CommonMiddleware", OUR_MIDDLEWARE]):
        assert ids(check_middleware()) == ["httpcache.W007"]


def test_e015_on_class_based_view_methods(monkeypatch):
    from tests.testapp.views import ProductView

    monkeypatch.setattr(ProductView.get, "httpcache_policy", "ghost", raising=False)
    messages = check_views()
    # Named as the runtime log names it: the class and the method.
    assert any("ghost" in m.msg and "tests.testapp.views.ProductView.get " in m.msg for m in messages)
    assert not any("<locals>" in m.msg for m in messages)


def test_e015_names_the_class_behind_a_decorator_that_lost_view_class():
    import functools

    from django_httpcache.checks import view_name
    from tests.testapp.views import ProductView

    callback = ProductView.as_view()
    wrapper = functools.update_wrapper(lambda request: callback(request), callback, updated=())
    assert view_name(wrapper) == "tests.testapp.views.ProductView"


@pytest.mark.parametrize("ident", ["httpcache.E015", "httpcache.E022", "httpcache.E012", "httpcache.E002"])
def test_checks_with_a_safe_runtime_fallback_are_warnings(ident):
    from django_httpcache.checks import _message
    from django_httpcache.policy import Problem

    assert isinstance(_message(Problem(ident, "x")), checks.Warning)


@pytest.mark.parametrize("ident", ["httpcache.E001", "httpcache.E010", "httpcache.E014", "httpcache.E016"])
def test_checks_whose_fallback_could_be_wrong_stay_errors(ident):
    from django_httpcache.checks import _message
    from django_httpcache.policy import Problem

    assert isinstance(_message(Problem(ident, "x")), checks.Error)


def test_unknown_policies_reported_when_policies_has_the_wrong_type():
    with override_settings(HTTPCACHE={"POLICIES": ["catalog"]}):
        names = " ".join(m.msg for m in check_views())
    assert "'catalog'" in names and "'no-such-policy'" in names


def test_checks_log_nothing_and_leave_the_runtime_log(caplog):
    from django_httpcache.checks import check_models, check_versions
    from django_httpcache.conf import conf

    with override_settings(HTTPCACHE={"VERSION_MODE": "bogus", "VERSION_FIELD": 3, "POLICIES": {"x": 1}}):
        checks.run_checks(tags=["httpcache"])
        check_versions(), check_models(), check_settings()
        assert caplog.records == []
        assert conf.VERSION_MODE == "aggregate"  # the runtime still logs its fallback, once
        assert "HTTPCACHE['VERSION_MODE'] = 'bogus' is invalid" in caplog.text


def test_httpcache_of_the_wrong_type_logs_at_runtime_once(caplog):
    from django_httpcache.conf import conf

    with override_settings(HTTPCACHE=["oops"]):
        assert conf.BODY_ETAG is True and conf.VERSION_MODE == "aggregate"
    assert [r.getMessage() for r in caplog.records] == [
        "HTTPCACHE = ['oops'] is not a dict; using the defaults (see manage.py check)."
    ]


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
