"""Backend options: the registry, system-check problems (E041-E044), and safe runtime fallbacks."""

from __future__ import annotations

import pytest
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from django_httpcache.cdn.backends import BACKENDS, PurgeBackend, PurgeError, load_backend

MINIMAL = {
    "fastly": {"service_id": "s", "api_token": "t"},
    "cloudflare": {"zone_id": "z", "api_token": "t"},
    "akamai": {"host": "akab-x.luna.akamaiapis.net", "client_token": "c", "client_secret": "s", "access_token": "a"},
    "cloudfront": {"distribution_id": "d", "access_key_id": "a", "secret_access_key": "s", "tag_header": "Cache-Tag"},
    "purge": {},
}


def ids(problems):
    return [problem.id for problem in problems]


def backend_problems(name, options):
    return load_backend(name, options).problems()


def test_short_names_cover_every_provider():
    assert set(BACKENDS) == {"fastly", "cloudflare", "akamai", "cloudfront", "purge", "varnish"}


@pytest.mark.parametrize("name", sorted(MINIMAL))
def test_minimal_options_have_no_problems(name):
    backend = load_backend(name, MINIMAL[name])
    assert isinstance(backend, PurgeBackend) and backend.name == name
    assert backend_problems(name, MINIMAL[name]) == []


def test_a_dotted_path_loads_too():
    backend = load_backend("django_httpcache.cdn.backends.fastly.FastlyBackend", MINIMAL["fastly"])
    assert backend.name == "fastly"


@pytest.mark.parametrize(
    ("backend", "fragment"),
    [("nosuch", "'nosuch' cannot be imported"), ("django_httpcache.conf.conf", "is not a PurgeBackend subclass")],
)
def test_a_backend_that_cannot_be_loaded_names_the_setting(backend, fragment):
    with pytest.raises(ImproperlyConfigured) as raised:
        load_backend(backend, {})
    assert 'HTTPCACHE["CDN"]["BACKEND"]' in str(raised.value) and fragment in str(raised.value)


def test_options_that_are_not_a_dict_are_no_options():
    assert load_backend("purge", ["not", "a", "dict"]).options == {}


def test_missing_required_options_are_e041_naming_the_setting():
    problems = backend_problems("fastly", {})
    assert ids(problems) == ["httpcache.E041", "httpcache.E041"]
    assert 'HTTPCACHE["CDN"]["OPTIONS"][\'service_id\'] is required by fastly' in problems[0].msg


def test_invalid_values_are_e042_and_secrets_are_not_echoed():
    problems = backend_problems("cloudflare", {"zone_id": 5, "api_token": 12345678, "endpoint": "ftp://x"})
    assert ids(problems) == ["httpcache.E042"] * 3
    text = " ".join(problem.msg for problem in problems)
    assert "12345678" not in text and "'ftp://x'" in text and "zone_id" in text


def test_unknown_options_are_e043():
    (problem,) = backend_problems("fastly", {**MINIMAL["fastly"], "servce_id": "typo"})
    assert problem.id == "httpcache.E043" and "'servce_id'" in problem.msg and "service_id" in problem.msg


def test_option_combinations_that_cannot_purge_keys_are_e044(monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    cloudfront = {key: value for key, value in MINIMAL["cloudfront"].items() if key != "tag_header"}
    assert ids(backend_problems("cloudfront", cloudfront)) == ["httpcache.E044"]
    assert ids(backend_problems("purge", {"key_header": "xkey-purge"})) == ["httpcache.E044"]
    assert ids(
        backend_problems("cloudfront", {"distribution_id": "d", "secret_access_key": "s", "tag_header": "T"})
    ) == ["httpcache.E041"]
    bad_path = {**cloudfront, "key_paths": "no.such.function"}
    assert ids(backend_problems("cloudfront", bad_path)) == ["httpcache.E042"]


def test_akamai_host_is_a_host_name():
    options = {**MINIMAL["akamai"], "host": "https://akab-x.luna.akamaiapis.net/"}
    assert ids(backend_problems("akamai", options)) == ["httpcache.E042"]


@pytest.mark.parametrize("name", ["fastly", "cloudflare", "akamai", "cloudfront"])
def test_bad_options_fail_the_purge_not_the_process(name):
    backend = load_backend(name, {"timeout": "soon", "tag_header": "Cache-Tag"} if name == "cloudfront" else {})
    assert backend.timeout == 10.0  # the default stands in for an invalid value
    with pytest.raises(PurgeError) as raised:
        backend.purge_keys(["k"])
    assert raised.value.permanent and 'HTTPCACHE["CDN"]["OPTIONS"]' in str(raised.value)


def test_manage_py_check_reports_backend_options(settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "CDN": {"BACKEND": "fastly", "OPTIONS": {"service_id": "s"}}}
    found = [m for m in checks.run_checks() if m.id.startswith("httpcache.E04")]
    assert [(m.id, m.level) for m in found] == [("httpcache.E041", checks.ERROR)]
    assert "['api_token'] is required by fastly" in found[0].msg
