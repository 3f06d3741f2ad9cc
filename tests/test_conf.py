"""The HTTPCACHE setting: defaults, use-time reads, and safe fallbacks for bad values."""

from __future__ import annotations

import logging

import pytest
from django.test import RequestFactory, override_settings

from django_httpcache.conf import DEFAULTS, conf
from django_httpcache.policy import CachePolicy
from django_httpcache.routing import policy_for, rules

rf = RequestFactory()


def test_defaults_without_setting(settings):
    del settings.HTTPCACHE
    for key, (default, _, _) in DEFAULTS.items():
        assert getattr(conf, key) == default
    assert conf.policies() == {}
    assert rules() == ()


def test_unknown_attribute():
    with pytest.raises(AttributeError):
        conf.NOPE  # noqa: B018


def test_policies_reload_on_override():
    assert conf.policy("catalog").max_age == 60
    with override_settings(HTTPCACHE={"POLICIES": {"catalog": "public, max-age=5"}}):
        assert conf.policy("catalog").max_age == 5
    assert conf.policy("catalog").max_age == 60


@pytest.mark.parametrize("value", [None, 5, "x", ["a"]])
def test_httpcache_of_the_wrong_type_is_treated_as_empty(value):
    with override_settings(HTTPCACHE=value):
        assert conf.BODY_ETAG is True
        assert conf.policies() == {}


def test_invalid_value_falls_back_to_default_and_logs(caplog):
    with override_settings(HTTPCACHE={"BODY_ETAG": "sometimes"}), caplog.at_level(logging.ERROR):
        assert conf.BODY_ETAG is True
    assert "BODY_ETAG" in caplog.text


def test_invalid_policy_becomes_no_store_and_logs(caplog):
    with override_settings(HTTPCACHE={"POLICIES": {"bad": {"max_age": -3}}}), caplog.at_level(logging.ERROR):
        policy = conf.policy("bad")
    assert policy.header == "no-store" and policy.invalid
    assert "HTTPCACHE['POLICIES']['bad']" in caplog.text


def test_unknown_policy_is_no_store(caplog):
    with caplog.at_level(logging.ERROR):
        assert conf.policy("nope", context="my.view").header == "no-store"
    assert "my.view" in caplog.text


def test_policy_for_default_and_memo():
    with override_settings(HTTPCACHE={"POLICIES": {"p": "max-age=1"}, "DEFAULT_POLICY": "p"}):
        request = rf.get("/anything/")
        request.resolver_match = None
        policy, source = policy_for(request)
        assert policy == CachePolicy.parse("max-age=1", name="p") and source == "default"
        assert policy_for(request)[0] is policy


def test_unknown_default_policy_is_no_store():
    with override_settings(HTTPCACHE={"DEFAULT_POLICY": "nope"}):
        request = rf.get("/")
        request.resolver_match = None
        assert policy_for(request)[0].header == "no-store"


def test_etaggers_loaded_from_dotted_paths(caplog):
    with override_settings(HTTPCACHE={"ETAGGERS": ["os.getcwd", "no.such.thing", 42]}):
        import os

        assert conf.etaggers() == (os.getcwd,)
    assert "no.such.thing" in caplog.text
