"""Run the example project under a real server (gunicorn) for tests and benchmarks."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "example_project"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Server:
    base_url: str
    env: dict[str, str]
    process: subprocess.Popen
    workdir: Path
    log: Path
    auth: dict[str, str] = field(default_factory=lambda: basic_auth("demo", "demo-password"))

    def request(
        self, method: str, path: str, headers: Mapping[str, str] | None = None, body: object = None
    ) -> Response:
        data = None
        headers = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as reply:
                return Response(reply.status, dict(reply.headers), reply.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers), error.read())

    def get(self, path: str, **headers: str) -> Response:
        return self.request("GET", path, {k.replace("_", "-"): v for k, v in headers.items()})

    def manage(self, *args: str) -> str:
        return manage(self.env, *args)


def basic_auth(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def manage(env: Mapping[str, str], *args: str) -> str:
    return run(
        [str(BIN / "python"), "manage.py", *args],
        f"manage.py {' '.join(args)}",
        cwd=EXAMPLE,
        env={**os.environ, **env},
        timeout=300,
    )


def run(command: list[str | Path], what: str, **options: Any) -> str:
    """Run a command to its end and return its output; fail with the output if it fails."""
    result = subprocess.run(command, capture_output=True, text=True, check=False, **options)
    if result.returncode:
        raise RuntimeError(f"{what} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


@contextmanager
def example_server(
    *,
    workers: int = 4,
    threads: int = 1,
    env: Mapping[str, str] | None = None,
    products: int = 50,
    extra_args: tuple[str, ...] = (),
) -> Iterator[Server]:
    """A fresh database, seeded, served by gunicorn on a free loopback port."""
    workdir = Path(tempfile.mkdtemp(prefix="httpcache-live-"))
    try:
        with _served(workdir, workers, threads, env, products, extra_args) as server:
            yield server
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def _served(
    workdir: Path,
    workers: int,
    threads: int,
    env: Mapping[str, str] | None,
    products: int,
    extra_args: tuple[str, ...],
) -> Iterator[Server]:
    port = free_port()
    with _database(workdir) as database:
        full_env = {
            **database,
            "EXAMPLE_CACHE_DIR": str(workdir / "versions"),
            "DJANGO_SETTINGS_MODULE": "example_project.settings",
            "EXAMPLE_FAST_PASSWORDS": "1",
            **(env or {}),
        }
        with _gunicorn(workdir, port, workers, threads, full_env, products, extra_args) as server:
            yield server


@contextmanager
def _database(workdir: Path) -> Iterator[dict[str, str]]:
    """A fresh database: a SQLite file in ``workdir``, or, when the suite runs on PostgreSQL
    (HTTPCACHE_TEST_DB=postgres), a new database on the suite's cluster, dropped afterwards."""
    from tests import postgres

    if not postgres.selected():
        yield {"EXAMPLE_DB_PATH": str(workdir / "db.sqlite3")}
        return
    cluster = postgres.suite_cluster()
    name = cluster.create_database("httpcache_live_")
    try:
        yield {"EXAMPLE_DATABASE_URL": cluster.url(name)}
    finally:
        cluster.drop_database(name)


@contextmanager
def _gunicorn(
    workdir: Path,
    port: int,
    workers: int,
    threads: int,
    full_env: dict[str, str],
    products: int,
    extra_args: tuple[str, ...],
) -> Iterator[Server]:
    # gunicorn runs no system checks either: what they refuse must be refused at run time.
    manage(full_env, "migrate", "--noinput", "-v0", "--skip-checks")
    manage(full_env, "seed_demo", "--products", str(products), "--skip-checks")
    log = workdir / "gunicorn.log"
    command = [
        str(BIN / "gunicorn"),
        "example_project.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--access-logfile",
        str(workdir / "access.log"),
        "--pid",
        str(workdir / "gunicorn.pid"),
        *extra_args,
    ]
    with open(log, "wb") as output:
        process = subprocess.Popen(
            command, cwd=EXAMPLE, env={**os.environ, **full_env}, stdout=output, stderr=subprocess.STDOUT
        )
    server = Server(f"http://127.0.0.1:{port}", full_env, process, workdir, log)
    try:
        wait_until_ready("gunicorn", process, log, lambda: server.get("/health/").status == 200)
        yield server
    finally:
        stop_process(process)


def wait_until_ready(
    name: str, process: subprocess.Popen, log: Path, ready: Callable[[], bool], timeout: float = 30
) -> None:
    """Poll ``ready()`` until it holds; fail with the daemon's log if it exits or times out."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if ready():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start in {timeout} s:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)


def stop_process(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
    """Signal the process we started (by its pid; SIGTERM by default), then SIGKILL it if it lingers."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
