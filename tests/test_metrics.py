"""Metrics (django_httpcache.metrics): Prometheus counters per outcome, Server-Timing,
Cache-Status, the metrics view, the shared stats, the reasons of a 200, and their checks."""

from __future__ import annotations

import io
import os
from unittest import mock

import pytest
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from prometheus_client import REGISTRY

from catalog.models import Category, Product
from django_httpcache import explain, metrics, preconditions, stats, trace
from django_httpcache.preconditions import Validators
from django_httpcache.versions.store import CounterStore

VIEW = "tests.testapp.views.cond"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Counts:
    """Counter deltas since the fixture started (the registry is per process)."""

    def __init__(self) -> None:
        self.before: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

    def start(self, name: str, **labels: str) -> None:
        self.before[(name, tuple(sorted(labels.items())))] = sample(name, **labels)

    def delta(self, name: str, **labels: str) -> float:
        return sample(name, **labels) - self.before.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metrics_on(settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "METRICS": True}
    metrics.prometheus_metrics()  # created before the first sample is read
    return Counts()


def responses(view: str, outcome: str, policy: str = "catalog") -> tuple[str, dict[str, str]]:
    return "httpcache_responses_total", {"view": view, "policy": policy, "outcome": outcome}


# -- counters ---------------------------------------------------------------------------


def test_each_outcome_is_counted_once_per_view_and_policy(client, metrics_on):
    names = ("full", "not_modified", "precondition_failed")
    for outcome in names:
        metrics_on.start(*responses(VIEW, outcome)[:1], **responses(VIEW, outcome)[1])
    first = client.get("/cond/")
    client.get("/cond/", headers={"if-none-match": first["ETag"]})
    client.get("/cond/", headers={"if-none-match": first["ETag"]})
    client.put("/cond/", headers={"if-match": '"stale"'})
    counted = {o: metrics_on.delta(*responses(VIEW, o)[:1], **responses(VIEW, o)[1]) for o in names}
    assert counted == {"full": 1, "not_modified": 2, "precondition_failed": 1}


def test_428_is_counted_with_the_policy_of_the_view(client, metrics_on):
    name, labels = responses("tests.testapp.views.require_if_match", "precondition_required", policy="")
    metrics_on.start(name, **labels)
    assert client.put("/require-if-match/").status_code == 428
    assert metrics_on.delta(name, **labels) == 1


def test_validator_time_is_observed_per_view_and_mode(client, metrics_on):
    labels = {"view": VIEW, "mode": "values"}
    metrics_on.start("httpcache_validator_seconds_count", **labels)
    client.get("/cond/")
    assert metrics_on.delta("httpcache_validator_seconds_count", **labels) == 1


def test_nothing_is_counted_when_metrics_are_off(client, settings):
    metrics.prometheus_metrics()
    name, labels = responses(VIEW, "full")
    before = sample(name, **labels)
    client.get("/cond/")
    assert sample(name, **labels) == before


def test_errors_and_redirects_are_not_outcomes():
    assert [metrics.outcome_of(s) for s in (200, 204, 304, 412, 428)] == [
        "full",
        "full",
        "not_modified",
        "precondition_failed",
        "precondition_required",
    ]
    assert {metrics.outcome_of(s) for s in (301, 404, 403, 500)} == {None}
    assert metrics.outcome_of(200, "hit") == "stored"


def test_purges_and_version_store_failures_are_counted(metrics_on):
    metrics_on.start("httpcache_purges_total", backend="fastly", result="failed")
    metrics_on.start("httpcache_purge_seconds_count", backend="fastly")
    metrics_on.start("httpcache_version_store_failures_total", alias="versions")
    metrics.purge("fastly", "failed", 0.2)
    CounterStore("versions")._failed(RuntimeError("down"))
    assert metrics_on.delta("httpcache_purges_total", backend="fastly", result="failed") == 1
    assert metrics_on.delta("httpcache_purge_seconds_count", backend="fastly") == 1
    assert metrics_on.delta("httpcache_version_store_failures_total", alias="versions") == 1


def test_a_failure_while_observing_never_fails_the_response(client, metrics_on, caplog):
    with mock.patch.object(metrics, "_prometheus_observe", side_effect=RuntimeError("boom")):
        assert client.get("/cond/").status_code == 200
        assert client.get("/cond/").status_code == 200
    assert len([r for r in caplog.records if "Observing a response failed" in r.getMessage()]) <= 1


# -- the metrics view ----------------------------------------------------------------


def test_metrics_view_serves_the_text_format_to_loopback_only(client, metrics_on, settings):
    settings.ROOT_URLCONF = "tests.test_metrics_urls"
    client.get("/cond/")
    reply = client.get("/metrics")
    assert reply.status_code == 200 and reply["Content-Type"].startswith("text/plain")
    assert b'httpcache_responses_total{outcome="full",policy="catalog",view="tests.testapp.views.cond"}' in (
        reply.content
    )
    assert client.get("/metrics", REMOTE_ADDR="::ffff:127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    settings.HTTPCACHE = {**settings.HTTPCACHE, "METRICS_ALLOW": ["10.0.0.0/8"]}
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200


# -- response headers ------------------------------------------------------------------


def test_server_timing_names_the_decision_and_the_validator_cost(client, settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_HEADERS": True}
    first = client.get("/cond/")
    assert first["Server-Timing"].startswith('httpcache;desc="200 values";dur=')
    again = client.get("/cond/", headers={"if-none-match": first["ETag"]})
    assert again["Server-Timing"].startswith('httpcache;desc="304 etag values";dur=')
    dated = client.get("/cond/", headers={"if-modified-since": first["Last-Modified"]})
    assert dated["Server-Timing"].startswith('httpcache;desc="304 date values"')
    assert "Cache-Status" not in first  # no response store in play: no cache to speak of


def test_model_validators_are_labelled_with_the_version_mode(client, product, mode, settings, metrics_on):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_HEADERS": True}
    labels = {"view": "product-list", "mode": mode}
    metrics_on.start("httpcache_validator_seconds_count", **labels)
    first = client.get("/products/")
    assert first["Server-Timing"].startswith(f'httpcache;desc="200 {mode}";dur=')
    assert metrics_on.delta("httpcache_validator_seconds_count", **labels) == 1


def test_headers_follow_debug_unless_set(client, settings):
    settings.DEBUG = False
    assert "Server-Timing" not in client.get("/cond/")
    settings.DEBUG = True
    assert "Server-Timing" in client.get("/cond/")
    settings.HTTPCACHE = {**settings.HTTPCACHE, "RESPONSE_HEADERS": False}
    assert "Server-Timing" not in client.get("/cond/")


# -- shared stats --------------------------------------------------------------------


@pytest.fixture
def stats_cache(settings):
    settings.CACHES = {
        **settings.CACHES,
        "stats": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "stats"},
    }
    settings.HTTPCACHE = {**settings.HTTPCACHE, "STATS_CACHE": "stats"}
    caches["stats"].clear()
    stats._local.__init__()  # type: ignore[misc]
    yield caches["stats"]
    caches["stats"].clear()


def test_stats_add_up_the_processes_over_the_window(stats_cache):
    now = 1_000_000 * stats.BUCKET + 1.0
    for _ in range(3):
        stats.count("v", "not_modified", now)
    stats.count("v", "full", now)
    stats.flush(now)
    # Another process: its own slot in the same minute.
    stats._local.__init__()  # type: ignore[misc]
    stats.count("v", "full", now + 1)
    stats.flush(now + 1)
    # The next minute: the previous one is written whole when it ends.
    stats.count("w", "full", now + stats.BUCKET)
    stats.flush(now + stats.BUCKET)
    totals = stats.read(3600, now=now + stats.BUCKET)
    assert dict(totals["v"]) == {"not_modified": 3, "full": 2}
    assert dict(totals["w"]) == {"full": 1}
    assert stats.read(60, now=now + 10 * stats.BUCKET) == {}


def test_httpcache_stats_prints_the_304_share_per_view(client, stats_cache):
    first = client.get("/cond/")
    for _ in range(3):
        client.get("/cond/", headers={"if-none-match": first["ETag"]})
    stats.flush()
    out = io.StringIO()
    call_command("httpcache_stats", stdout=out)
    row = next(line for line in out.getvalue().splitlines() if line.startswith(VIEW))
    assert row.split()[1:3] == ["4", "1"] and row.endswith("75.0%")


def test_httpcache_stats_says_when_nothing_is_kept(settings):
    with pytest.raises(CommandError, match="STATS_CACHE"):
        call_command("httpcache_stats")


# -- reasons and steps ------------------------------------------------------------------


@pytest.fixture
def product(db, settings):
    settings.DEBUG = True  # reasons are kept in DEBUG only
    category = Category.objects.create(name="Tools", slug="tools")
    return Product.objects.create(name="Hammer", slug="hammer", price="9.50", category=category)


def test_the_reason_of_a_200_names_the_model_whose_version_moved(
    client, product, mode, django_capture_on_commit_callbacks
):
    first = client.get("/products/")
    again = client.get("/products/")  # the dependencies are known now: the tag is final
    with django_capture_on_commit_callbacks(execute=True):
        product.name = "Sledgehammer"
        product.save()
    after = client.get("/products/", headers={"if-none-match": again["ETag"]})
    assert after.status_code == 200
    reason = trace.of(after.wsgi_request).reason
    assert reason.startswith("ETag changed: ") and "catalog.product" in reason and reason.endswith(" moved"), reason
    assert first.status_code == 200


def test_the_reason_for_a_tag_never_seen_here(client, product):
    reply = client.get("/products/", headers={"if-none-match": '"from-another-process"'})
    assert trace.of(reply.wsgi_request).reason == explain.UNKNOWN


def test_no_reason_when_no_304_was_asked_for(client, product):
    assert trace.of(client.get("/products/").wsgi_request).reason == ""


def test_no_reasons_kept_outside_debug(client, product, settings):
    settings.DEBUG = False
    explain._history.clear()
    client.get("/products/")
    reply = client.get("/products/", headers={"if-none-match": '"from-another-process"'})
    assert reply.status_code == 200 and reply.has_header("ETag")
    assert trace.of(reply.wsgi_request).reason == "" and explain._history == {}


def test_steps_are_written_only_while_explaining():
    factory = RequestFactory()
    current = Validators(etag='"a"')
    quiet = factory.get("/", headers={"if-none-match": '"a"'})
    preconditions.evaluate(quiet, current)
    assert trace.peek(quiet) is None
    asked = factory.get("/", headers={"if-none-match": '"a"'})
    asked.__dict__[trace.EXPLAIN] = True
    preconditions.evaluate(asked, current)
    assert trace.of(asked).steps == [
        'GET: If-None-Match: "a"',
        'current ETag "a", Last-Modified none: 304 Not Modified',
    ]


def test_the_policy_and_its_source_come_from_routing(client, metrics_on):
    assert trace.of(client.get("/cond/").wsgi_request).policy == ("catalog", "decorator")
    name, labels = responses("rules:by-name", "full", policy="user")  # by RULES, URL name as view
    metrics_on.start(name, **labels)
    client.get("/rules/by-name/")
    assert metrics_on.delta(name, **labels) == 1


# -- checks ------------------------------------------------------------------------------


def ids(settings_problems: list) -> set[str]:
    return {p.id for p in settings_problems}


def test_check_metrics_without_prometheus_client(settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "METRICS": True}
    with mock.patch.dict("sys.modules", {"prometheus_client": None}):
        assert "httpcache.E050" in ids(metrics.observe_problems())


def test_check_multiprocess_dir_that_is_not_a_directory(settings, tmp_path):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "METRICS": True}
    with mock.patch.dict(os.environ, {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "missing")}):
        problems = metrics.observe_problems()
    assert ids(problems) == {"httpcache.W051"} and "missing" in problems[0].msg


def test_check_stats_cache(settings):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "STATS_CACHE": "nowhere"}
    problems = metrics.observe_problems()
    assert ids(problems) == {"httpcache.E051"} and "'nowhere'" in problems[0].msg
    settings.HTTPCACHE = {**settings.HTTPCACHE, "STATS_CACHE": "default"}
    assert ids(metrics.observe_problems()) == {"httpcache.W050"}  # LocMemCache: one process


def test_bad_observe_settings_are_check_errors_naming_the_key(settings):
    from django_httpcache.checks import settings_problems

    settings.HTTPCACHE = {**settings.HTTPCACHE, "METRICS_ALLOW": ["not-a-network"], "RESPONSE_HEADERS": "yes"}
    messages = " ".join(p.msg for p in settings_problems())
    assert "HTTPCACHE['METRICS_ALLOW']" in messages and "HTTPCACHE['RESPONSE_HEADERS']" in messages


def test_purges_sent_through_a_backend_are_counted_with_their_latency(metrics_on, settings, recording):
    from django_httpcache.cdn import purge
    from django_httpcache.cdn.backends import PurgeError

    counts = Counts()
    for result in ("sent", "failed"):
        counts.start("httpcache_purges_total", backend="recording", result=result)
    counts.start("httpcache_purge_seconds_count", backend="recording")
    backend = recording({})
    purge.purge_now(["a", "b"], backend)
    recording.failures = 1
    with pytest.raises(PurgeError):
        purge.purge_now(["c"], backend)
    assert counts.delta("httpcache_purges_total", backend="recording", result="sent") == 1
    assert counts.delta("httpcache_purges_total", backend="recording", result="failed") == 1
    assert counts.delta("httpcache_purge_seconds_count", backend="recording") == 2
