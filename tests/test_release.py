"""Deploy-aware validators: every model-version tag folds in the release (R14)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory, override_settings
from django.utils import translation

from django_httpcache.release import derived_release, release
from django_httpcache.validators import _SEP, etag_for, variant_key

ROOT = Path(__file__).resolve().parent.parent


def httpcache(settings, **overrides):
    return override_settings(HTTPCACHE={**settings.HTTPCACHE, **overrides})


def tag(path: str = "/cond/?page=2") -> str:
    return etag_for(["app.model", 1, 7], variant_key(RequestFactory().get(path), None))


def test_changing_release_changes_every_model_tag(settings):
    with httpcache(settings, RELEASE="2026.12.1"):
        before = [tag(p) for p in ("/a/", "/b/?x=1")]
    with httpcache(settings, RELEASE="2026.12.2"):
        after = [tag(p) for p in ("/a/", "/b/?x=1")]
    assert all(old != new for old, new in zip(before, after, strict=True))


def test_opt_out_keeps_the_variant_key_as_before(settings):
    settings.USE_I18N = True
    with httpcache(settings, RELEASE=False), translation.override("fr"):
        key = variant_key(RequestFactory().get("/cond/", {"page": 2}), None, "application/json")
        language = translation.get_language()
    assert key == _SEP.join(["/cond/", "page=2", "application/json", language])


def test_default_derives_the_release(settings):
    with httpcache(settings, RELEASE=None):
        assert release() == f"release={derived_release()}"
        assert f"release={derived_release()}" in variant_key(RequestFactory().get("/"), None)


def test_a_conditional_view_answers_200_to_the_tag_of_the_previous_release(client, settings):
    with httpcache(settings, RELEASE="one"):
        old = client.get("/cond/").headers["ETag"]
        assert client.get("/cond/", HTTP_IF_NONE_MATCH=old).status_code == 304
    with httpcache(settings, RELEASE="two"):
        response = client.get("/cond/", HTTP_IF_NONE_MATCH=old)
    assert response.status_code == 200 and response.headers["ETag"] != old


def test_invalid_release_falls_back_to_derived_with_a_log(settings, caplog):
    with httpcache(settings, RELEASE=42):
        assert release() == f"release={derived_release()}"
    assert "HTTPCACHE['RELEASE'] = 42 is invalid" in caplog.text


def test_derived_release_is_the_same_in_every_process_and_place(tmp_path, monkeypatch):
    from django_httpcache import release as module

    for place in ("a", "b"):  # the same files deployed in two places
        (tmp_path / place / "templates").mkdir(parents=True)
        (tmp_path / place / "templates" / "page.html").write_text("<p>{{ name }}</p>")
        (tmp_path / place / "views.py").write_text("NAME = 1\n")
    code = (
        "import sys, django; django.setup(); from pathlib import Path; from django_httpcache import release as r; "
        "r._own_directories = lambda: [(Path(sys.argv[1]), True)]; print(r.derived_release())"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": f"{ROOT}:{ROOT / 'example_project'}"}
    seen = {
        subprocess.run(
            [sys.executable, "-c", code, str(tmp_path / place)],
            env={**env, "PYTHONHASHSEED": seed},
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for place, seed in (("a", "1"), ("b", "2"))
    }
    monkeypatch.setattr(module, "_own_directories", lambda: [(tmp_path / "a", True)])
    derived_release.cache_clear()
    assert seen == {derived_release()}


def test_derived_release_follows_the_code(tmp_path, settings, monkeypatch):
    from django_httpcache import release as module

    template = tmp_path / "page.html"
    template.write_text("<p>one</p>")
    monkeypatch.setattr(module, "_own_directories", lambda: [(tmp_path, True)])
    derived_release.cache_clear()
    first = derived_release()
    template.write_text("<p>two</p>")
    derived_release.cache_clear()
    assert derived_release() != first
    derived_release.cache_clear()


@pytest.fixture(autouse=True)
def _forget_derived():
    yield
    derived_release.cache_clear()
