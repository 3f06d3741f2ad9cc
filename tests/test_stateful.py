"""R24 under random histories: a hypothesis state machine.

Random creates, saves, deletes, queryset updates, bulk creates, m2m changes, related
renames, conditional writes and rolled-back transactions, interleaved with GETs of
lists (several filters and pages) and details, and revalidations that replay any
ETag or Last-Modified received before. A fake clock moves in random steps, so
Last-Modified dates are sent and replayed too. Invariants:

- no false 304: a 304 only when the current body is byte-identical to the body that
  came with the replayed validator;
- no missed 304: with no committed write since a validator was received, it gets 304;
- no lost update: an If-Match write succeeds only if the client's copy was current;
- never a 5xx.

``HTTPCACHE_STATEFUL_EXAMPLES`` x ``HTTPCACHE_STATEFUL_STEPS`` per version mode:
small in ``make test``, 10,000+ steps in ``make reliability``.
"""

from __future__ import annotations

import datetime
import math
import os
from collections import Counter
from unittest import mock

import pytest
from django.core.cache import caches
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from django_httpcache import versions
from django_httpcache.models import ModelStamp
from tests.testapp.models import Article, Tag

EXAMPLES = int(os.environ.get("HTTPCACHE_STATEFUL_EXAMPLES", "4"))
STEPS = int(os.environ.get("HTTPCACHE_STATEFUL_STEPS", "60"))
JSON = {"accept": "application/json"}
LISTS = [
    "/api/articles/",
    "/api/articles/?page=2",
    "/api/articles/?tag=red",
    "/api/articles/?page_size=3",
    "/api/article-list/",
]
TAG_NAMES = ["red", "blue", "green"]
STATS: Counter[str] = Counter()


class FakeClock:
    """Wall time for the app (updated_at, store tokens, Last-Modified), moved by the test
    in big steps, and like a real clock by a microsecond at every reading: aggregate
    mode relies on a save moving updated_at forward (see docs/model-versions.md)."""

    def __init__(self) -> None:
        self.now = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc).timestamp()

    def _read(self) -> float:
        self.now += 1e-6
        return self.now

    def time(self) -> float:
        return self._read()

    def time_ns(self) -> int:
        return int(self._read() * 1e9)

    def datetime(self) -> datetime.datetime:
        return datetime.datetime.fromtimestamp(self._read(), tz=datetime.timezone.utc)


class History(RuleBasedStateMachine):
    """The clock, the reads and the judged revalidations; subclasses bring the data
    (``reset``, an ``@initialize`` seed, write rules) and the URLs to read."""

    stats: Counter[str] = STATS

    def __init__(self) -> None:
        super().__init__()
        self.client = Client()
        self.clock = FakeClock()
        fake_time = mock.Mock(wraps=__import__("time"))
        fake_time.time = self.clock.time
        fake_time.time_ns = self.clock.time_ns
        self.patches = [
            mock.patch("django.utils.timezone.now", self.clock.datetime),
            mock.patch("django_httpcache.validators.time", fake_time),
            mock.patch("django_httpcache.versions.store.time", fake_time),
        ]
        for patch in self.patches:
            patch.start()
        self.reset()
        ModelStamp.objects.all().delete()
        if "versions" in caches:
            caches["versions"].clear()
        versions.reset_stores()
        self.writes = 0  # committed changes so far
        self.seen: list[tuple[str, str | None, str | None, bytes, int]] = []

    def reset(self) -> None:
        """Delete the rows the previous example left."""
        raise NotImplementedError

    def urls(self) -> list[str]:
        raise NotImplementedError

    def teardown(self) -> None:
        for patch in self.patches:
            patch.stop()

    def wrote(self) -> None:
        self.writes += 1
        self.stats["writes"] += 1

    @rule(seconds=st.sampled_from([0.0, 0.2, 0.7, 1.0, 1.5, 3.0]))
    def tick(self, seconds) -> None:
        self.clock.now += seconds

    # -- reads ---------------------------------------------------------------------------

    def get(self, url: str, **headers: str):
        response = self.client.get(url, headers={**JSON, **headers})
        assert response.status_code < 500, response.content
        return response

    @rule(data=st.data())
    def fetch(self, data) -> None:
        url = data.draw(st.sampled_from(self.urls()))
        response = self.get(url)
        self.stats["gets"] += 1
        if response.status_code == 200 and "ETag" in response:
            self.seen.append(
                (url, response["ETag"], response.headers.get("Last-Modified"), response.content, self.writes)
            )

    # Reads outnumber writes in real traffic; extra rules make them more likely here.
    @rule(data=st.data())
    def fetch_again(self, data) -> None:
        self.fetch(data)

    @precondition(lambda self: self.seen)
    @rule(data=st.data(), by_date=st.booleans())
    def revalidate_again(self, data, by_date) -> None:
        self.revalidate(data, by_date)

    @precondition(lambda self: self.seen)
    @rule(data=st.data(), by_date=st.booleans())
    def revalidate_once_more(self, data, by_date) -> None:
        self.revalidate(data, by_date)

    @precondition(lambda self: self.seen)
    @rule(data=st.data(), by_date=st.booleans())
    def revalidate(self, data, by_date) -> None:
        url, etag, last_modified, body, writes = data.draw(st.sampled_from(self.seen))
        if by_date and last_modified is None:
            return
        header = {"if-modified-since": last_modified} if by_date else {"if-none-match": etag}
        response = self.get(url, **header)
        self.stats["revalidations"] += 1
        if response.status_code == 304:
            self.stats["304"] += 1
            current = self.get(url)
            assert current.status_code == 200 and current.content == body, f"false 304 on {url} ({header})"
        elif writes == self.writes and response.status_code == 200:
            raise AssertionError(f"missed 304 on {url} ({header}): nothing was written since")
        elif response.status_code == 200 and response.content == body:
            self.stats["conservative 200"] += 1

    def if_match_write(self, url: str, etag: str, body: bytes, payload: dict[str, str]) -> None:
        """A PATCH with If-Match: it may succeed only if the client's copy was current."""
        before = self.client.get(url, headers=JSON)
        response = self.client.patch(url, payload, content_type="application/json", headers={**JSON, "if-match": etag})
        assert response.status_code < 500
        if response.status_code == 200:
            assert before.content == body, "lost update: If-Match matched a copy that was not current"
            self.stats["conditional writes"] += 1
            self.wrote()
        elif response.status_code == 412:
            self.stats["412"] += 1

    @invariant()
    def counted(self) -> None:
        self.stats["steps"] += 1


class ValidatorHistory(History):
    def reset(self) -> None:
        Article._base_manager.all().delete()
        Tag._base_manager.all().delete()

    # -- data ----------------------------------------------------------------------------

    @initialize()
    def seed(self) -> None:
        tags = [Tag.objects.create(name=name) for name in TAG_NAMES]
        for index in range(5):
            Article.objects.create(title=f"a{index}").tags.add(tags[index % 3])
        self.wrote()

    def pick(self, data) -> Article | None:
        pks = list(Article.objects.values_list("pk", flat=True))
        return Article.objects.get(pk=data.draw(st.sampled_from(pks))) if pks else None

    # One rule for all writes, so that reads (several rules) are drawn more often.
    @rule(
        data=st.data(),
        kind=st.sampled_from(
            ["create", "save", "delete", "queryset update", "bulk_create", "m2m", "rename", "rollback"]
        ),
    )
    def write(self, data, kind) -> None:
        article = self.pick(data)
        if kind == "create":
            Article.objects.create(title="new")
        elif kind == "save" and article is not None:
            article.body = data.draw(st.text(alphabet="xyz", max_size=3))
            article.save()
        elif kind == "delete" and article is not None:
            article.delete()
        elif kind == "queryset update":
            if not Article.objects.filter(pk__in=Article.objects.values("pk")[:2]).update(
                body=data.draw(st.sampled_from("pq"))
            ):
                return
        elif kind == "bulk_create":
            Article.objects.bulk_create([Article(title="bulk") for _ in range(data.draw(st.integers(1, 3)))])
        elif kind == "m2m" and article is not None:
            tag = Tag.objects.filter(name=data.draw(st.sampled_from(TAG_NAMES))).first()
            if tag is None:
                return
            (article.tags.add if data.draw(st.booleans()) else article.tags.remove)(tag)
        elif kind == "rename":
            name, new = data.draw(st.sampled_from(TAG_NAMES)), data.draw(st.sampled_from([*TAG_NAMES, "grey"]))
            tag = Tag.objects.filter(name=name).first()
            if tag is None or name == new or Tag.objects.filter(name=new).exists():
                return
            tag.name = new
            tag.save()
        elif kind == "rollback":
            with pytest.raises(RuntimeError), transaction.atomic():
                Article.objects.create(title="ghost")
                Article.objects.update(body="ghost")
                if article is not None:
                    article.tags.clear()
                    article.delete()
                raise RuntimeError
            self.stats["rollbacks"] += 1
            return
        else:
            return
        self.wrote()

    # -- reads ---------------------------------------------------------------------------

    def urls(self) -> list[str]:
        pks = list(Article._base_manager.values_list("pk", flat=True)[:4])
        return LISTS + [f"/api/articles/{pk}/" for pk in pks]

    @precondition(
        lambda self: any("/api/articles/" in s[0] and s[0].rstrip("/").split("/")[-1].isdigit() for s in self.seen)
    )
    @rule(data=st.data())
    def conditional_write(self, data) -> None:
        details = [s for s in self.seen if s[0].rstrip("/").split("/")[-1].isdigit()]
        url, etag, _, body, _ = data.draw(st.sampled_from(details))
        self.if_match_write(url, etag, body, {"body": "w"})


@pytest.fixture
def mode_settings(settings, mode):
    settings.HTTPCACHE = {**settings.HTTPCACHE, "LAST_MODIFIED_SETTLE": 0}
    return mode


def run_histories(machine: type[History], name: str, record_property) -> Counter[str]:
    """Run ``machine`` at the configured size and record its figures under ``name``."""
    from tests.reliability import record

    machine.stats.clear()
    explore = "HTTPCACHE_STATEFUL_STEPS" in os.environ
    # Hypothesis ends some histories early; an exploring run goes on until the full size.
    examples = EXAMPLES
    while examples > 0:
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=examples,
                stateful_step_count=STEPS,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                # The small run in `make test` is the same every time; `make reliability` explores.
                derandomize=not explore,
            ),
        )
        missing = EXAMPLES * STEPS - machine.stats["steps"]
        examples = math.ceil(missing / STEPS) if explore else 0
    record_property("stateful", dict(machine.stats))
    assert machine.stats["304"] > 0 and machine.stats["revalidations"] > 0
    record(name, machine.stats)
    return machine.stats


@pytest.mark.django_db(transaction=True)
def test_r24_random_histories(mode_settings, record_property):
    assert (versions.counter_store() is not None) == (mode_settings == "counter")
    run_histories(ValidatorHistory, f"stateful, {mode_settings} mode", record_property)
