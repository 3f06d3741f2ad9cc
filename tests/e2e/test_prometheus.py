"""A real Prometheus server (Debian's ``prometheus``) scrapes the example project under
gunicorn with 2 workers; after a known sequence of requests, PromQL over its HTTP API
returns the counts per outcome, added up across the workers (multi-process mode)."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.conftest import require_binary
from tests.live.server import example_server, free_port, stop_process, wait_until_ready

pytestmark = pytest.mark.live

OUTCOME = {200: "full", 304: "not_modified", 412: "precondition_failed", 428: "precondition_required"}
VIEW = "api:product-detail"


@contextmanager
def prometheus(binary: str, target: str, workdir: Path) -> Iterator[str]:
    """A throwaway Prometheus scraping ``target`` (host:port) every second; yields its URL."""
    config = workdir / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
        f"scrape_configs:\n  - job_name: example\n    static_configs:\n      - targets: ['{target}']\n"
    )
    port = free_port()
    log = workdir / "prometheus.log"
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=workdir, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready("prometheus", process, log, lambda: urllib.request.urlopen(url + "/-/ready").status == 200)
        yield url
    finally:
        stop_process(process)


def query(url: str, promql: str) -> dict[str, float]:
    """An instant query; the value of each series by its ``outcome`` label."""
    with urllib.request.urlopen(url + "/api/v1/query?" + urllib.parse.urlencode({"query": promql})) as reply:
        data = json.load(reply)
    assert data["status"] == "success", data
    return {row["metric"].get("outcome", ""): float(row["value"][1]) for row in data["data"]["result"]}


def test_promql_counts_each_outcome_across_two_workers(tmp_path):
    binary = require_binary("prometheus", "prometheus")
    multiproc = tmp_path / "multiproc"
    multiproc.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(multiproc)}
    with example_server(workers=2, env=env, products=5, extra_args=("--max-requests", "4")) as site:
        sent: Counter[str] = Counter()

        def send(method: str, headers: dict[str, str] | None = None, body: object = None) -> str | None:
            reply = site.request(method, "/api/products/1/", {"Accept": "application/json", **(headers or {})}, body)
            sent[OUTCOME[reply.status]] += 1
            return reply.headers.get("ETag")

        tag = None
        while tag is None:  # the first render learns what the view reads (R26)
            tag = send("GET")
        for _ in range(7):
            send("GET", {"If-None-Match": tag})
        for _ in range(3):
            send("PATCH", {**site.auth, "If-Match": '"stale"'}, {"price": "1.00"})
        send("PATCH", site.auth, {"price": "1.00"})
        assert sent["precondition_failed"] == 3 and sent["precondition_required"] == 1 and sent["not_modified"] > 0
        expected = {outcome: float(n) for outcome, n in sent.items()}

        with prometheus(binary, site.base_url.removeprefix("http://"), tmp_path) as url:
            promql = f'sum by (outcome) (httpcache_responses_total{{view="{VIEW}",policy="catalog"}})'
            deadline = time.monotonic() + 30
            found = query(url, promql)
            while found != expected and time.monotonic() < deadline:
                time.sleep(0.5)
                found = query(url, promql)
            assert found == expected
            assert query(url, f'sum(httpcache_validator_seconds_count{{view="{VIEW}"}}) > 0')
    # Workers are replaced every few requests (--max-requests): the counts above were
    # written by several processes, each into its own file, and added up per scrape.
    assert len(list(multiproc.glob("counter_*.db"))) >= 3
