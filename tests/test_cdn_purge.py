"""Purging (django_httpcache.cdn.purge): what each write purges, how it is sent, the
command, the admin action and the Varnish backend's requests."""

from __future__ import annotations

import http.server
import io
import threading

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import RequestFactory, override_settings

from django_httpcache.cdn import purge
from django_httpcache.cdn.admin import purge_from_cdn
from django_httpcache.cdn.backends import PurgeError
from django_httpcache.cdn.backends.varnish import VarnishBackend
from tests.cdn_backend import cdn
from tests.testapp.models import Article, Tag

pytestmark = pytest.mark.django_db(transaction=True)


def sent(backend) -> set[str]:
    assert purge.queue.join(timeout=5)
    return backend.purged()


@pytest.fixture
def article(settings, recording):
    with cdn(settings):
        found = Article.objects.create(title="a")
        red = Tag.objects.create(name="red")
    assert purge.queue.join(timeout=5)
    recording.reset()
    return found, red


def test_bulk_update_purges_the_model_and_every_row(settings, recording, article):
    with cdn(settings):
        Article.objects.filter(title="a").update(body="x")
        assert sent(recording) == {"testapp.article", "testapp.article._rows"}


def test_m2m_change_purges_both_sides_objects(settings, recording, article):
    found, red = article
    with cdn(settings):
        found.tags.add(red)
        assert sent(recording) == {
            "testapp.article",
            f"testapp.article.{found.pk}",
            "testapp.tag",
            f"testapp.tag.{red.pk}",
        }


def test_delete_and_bump_purge_the_object(settings, recording, article):
    from django_httpcache.versions import bump

    found, red = article
    pk = found.pk
    with cdn(settings):
        bump(red)
        found.delete()
        assert sent(recording) == {"testapp.tag", f"testapp.tag.{red.pk}", "testapp.article", f"testapp.article.{pk}"}


def test_keys_are_chunked_to_the_backend_limit(settings, recording, article):
    with cdn(settings, max_keys_per_request=2):
        with transaction.atomic():
            for index in range(5):
                Article.objects.create(title=f"n{index}")
        assert purge.queue.join(timeout=5)
    assert [len(call) for call in recording.calls] == [2, 2, 2]  # 6 keys
    assert len(recording.purged()) == 6


def test_the_purge_thread_sends_without_tasks(settings, recording, article):
    with cdn(settings, TASKS=False):
        Article.objects.create(title="t")
        assert sent(recording) and set(recording.threads) == {"httpcache-purge"}


def test_tasks_framework_when_configured(settings, recording, article):
    from django_httpcache.cdn.tasks import _framework  # the test extra installs django-tasks before Django 6

    tasks = {"default": {"BACKEND": f"{_framework().__name__}.backends.immediate.ImmediateBackend"}}
    with cdn(settings), override_settings(TASKS=tasks):
        Article.objects.create(title="t")
        # ImmediateBackend runs the task where it is enqueued: in this thread, at commit.
        assert recording.threads == [threading.current_thread().name]
    assert len(recording.purged()) == 2


def test_no_backend_no_purges(recording, article):
    Article.objects.create(title="t")
    assert purge.queue.join(timeout=5) and recording.calls == []


# -- manage.py httpcache_purge ---------------------------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("httpcache_purge", *args, stdout=out)
    return out.getvalue()


def test_command_purges_models_objects_keys_and_urls(settings, recording, article):
    found, _ = article
    with cdn(settings, PREFIX="s-"):
        run("--model", "testapp.Article", "--object", f"testapp.Article:{found.pk}", "--key", "raw")
        run("--url", "/api/articles/")
    assert recording.calls == [
        ["raw", "s-testapp.article", f"s-testapp.article.{found.pk}", "s-testapp.article._rows"],
        ["url:/api/articles/"],
    ]


def test_command_all_purges_every_tracked_model(settings, recording):
    with cdn(settings):
        run("--all")
    assert {"testapp.article", "testapp.tag._rows", "catalog.product"} <= recording.purged()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Nothing to purge"),
        (("--model", "auth.Group"), "not tracked"),
        (("--model", "nope.Model"), "is not a model"),
        (("--object", "testapp.Article"), "app_label.Model:pk"),
    ],
)
def test_command_errors_name_the_problem(settings, recording, args, message):
    with cdn(settings), pytest.raises(CommandError, match=message):
        run(*args)


def test_command_without_a_backend():
    with pytest.raises(CommandError, match="no \\(valid\\) BACKEND"):
        run("--all")


def test_command_reports_a_failed_purge(settings, recording):
    recording.failures = 1
    with cdn(settings), pytest.raises(CommandError, match="Purge failed: purge endpoint down"):
        run("--key", "k")


# -- the admin action ------------------------------------------------------------------


class FakeAdmin:
    def message_user(self, request, message, level):
        request._messages.add(level, message)


def test_admin_action_purges_the_selected_objects(settings, recording, article):
    found, _ = article
    request = RequestFactory().post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    with cdn(settings):
        purge_from_cdn(FakeAdmin(), request, Article.objects.filter(pk=found.pk))
    assert recording.calls == [[f"testapp.article.{found.pk}"]]
    assert [str(m) for m in get_messages(request)] == ["Purged 1 object keys from recording."]


# -- the Varnish backend's requests ----------------------------------------------------


class Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str, dict[str, str]]] = []
    status = 200

    def _any(self) -> None:
        type(self).seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_PURGE = do_BAN = _any

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint():
    Recorder.seen, Recorder.status = [], 200
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=False)
def test_varnish_xkey_purge_and_ban(endpoint):
    VarnishBackend({"url": endpoint}).purge_keys(["a.b", "a.b.1"])
    VarnishBackend({"url": endpoint, "soft": True}).purge_keys(["a.b"])
    VarnishBackend({"url": endpoint, "mode": "ban"}).purge_keys(["a.b", "a.b.1"])
    VarnishBackend({"url": endpoint, "host": "shop.example"}).purge_urls(["https://x.example/p/?q=1"])
    (m1, p1, h1), (_, _, h2), (m3, _, h3), (m4, p4, h4) = Recorder.seen
    assert (m1, p1, h1["xkey-purge"]) == ("PURGE", "/", "a.b a.b.1")
    assert h2["xkey-softpurge"] == "a.b"
    assert m3 == "BAN" and h3["xkey-ban"] == r"(^|[ ,])(a\.b|a\.b\.1)([ ,]|$)"
    assert (m4, p4, h4["host"]) == ("PURGE", "/p/?q=1", "shop.example")


@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize(("status", "permanent"), [(503, False), (405, True)])
def test_varnish_failures(endpoint, status, permanent):
    Recorder.status = status
    with pytest.raises(PurgeError) as caught:
        VarnishBackend({"url": endpoint}).purge_keys(["k"])
    assert caught.value.permanent is permanent
    with pytest.raises(PurgeError) as down:
        VarnishBackend({"url": "http://127.0.0.1:9", "timeout": 1}).purge_keys(["k"])
    assert not down.value.permanent
