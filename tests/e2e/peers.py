"""Helpers shared by the end-to-end tests against real peers (Varnish, HTTP clients, REDbot).

- `AccessLog` reads gunicorn's access log, which records every request that reached the
  origin: it is how a test tells "served by the cache" from "went to Django".
- `varnish()` runs a throwaway varnishd in front of the example server, stopped by pid.
- `add_user()` and `session_cookie()` make a second account and a real session for it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.live.server import BIN, EXAMPLE, Response, Server, free_port, stop_process, wait_until_ready

# gunicorn's default access log format: h l u t "r" s b "f" "a"
ACCESS_LINE = re.compile(
    r'^\S+ \S+ \S+ \[[^\]]*\] "(?P<method>\S+) (?P<target>\S+) [^"]*" (?P<status>\d{3}) \S+'
    r' "[^"]*" "(?P<agent>[^"]*)"$'
)


@dataclass(frozen=True)
class Hit:
    method: str
    target: str
    status: int


class AccessLog:
    """The requests that reached gunicorn, parsed from its access log (those of one
    user agent only, when ``agent`` is given)."""

    def __init__(self, server: Server | Path, agent: str | None = None) -> None:
        self.path = server if isinstance(server, Path) else server.workdir / "access.log"
        self.agent = agent

    def entries(self) -> list[Hit]:
        try:
            text = self.path.read_text(errors="replace")
        except FileNotFoundError:
            return []
        hits = []
        for line in text.splitlines():
            match = ACCESS_LINE.match(line)
            if match and (self.agent is None or match["agent"] == self.agent):
                hits.append(Hit(match["method"], match["target"], int(match["status"])))
        return hits

    def of(self, target: str) -> list[int]:
        """Statuses of the GETs of ``target``, in log order."""
        return [hit.status for hit in self.entries() if hit.method == "GET" and hit.target == target]

    def settled(self, target: str, count: int, timeout: float = 10.0, quiet: float = 0.5) -> list[int]:
        """Statuses of ``target`` once ``count`` of them are logged and no more follow for
        ``quiet`` s (gunicorn writes a line just after sending the response)."""
        deadline = time.monotonic() + timeout
        while len(self.of(target)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(quiet)
        return self.of(target)

    def count(self, target: str, status: int | None = None, method: str = "GET") -> int:
        return sum(
            1
            for hit in self.entries()
            if hit.method == method and hit.target == target and (status is None or hit.status == status)
        )

    def mark(self) -> int:
        """A position: `since(mark)` lists what reached the origin after it."""
        return len(self.entries())

    def since(self, mark: int) -> list[Hit]:
        return self.entries()[mark:]

    def settle(self, quiet: float = 0.3, timeout: float = 5.0) -> None:
        """Wait until no new line arrived for `quiet` seconds.

        gunicorn writes the access line after it has sent the response, so a client can
        see its answer a moment before the line exists.
        """
        deadline = time.monotonic() + timeout
        last = self.mark()
        stable_since = time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.mark()
            if now != last:
                last, stable_since = now, time.monotonic()
            elif time.monotonic() - stable_since >= quiet:
                return

    def wait_for(self, predicate: Callable[[list[Hit]], bool], mark: int, timeout: float = 5.0) -> list[Hit]:
        """Poll until `predicate(lines since mark)` holds; return those lines either way."""
        deadline = time.monotonic() + timeout
        while True:
            hits = self.since(mark)
            if predicate(hits) or time.monotonic() > deadline:
                return hits
            time.sleep(0.05)


def fetch(
    url: str, headers: Mapping[str, str] | None = None, method: str = "GET", body: bytes | None = None
) -> Response:
    """One request with urllib (no cache of its own), errors returned as responses."""
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return Response(reply.status, dict(reply.headers), reply.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, dict(error.headers), error.read())


def sbin_which(name: str) -> str | None:
    """shutil.which, also looking in the sbin directories a non-root PATH may lack."""
    extra = os.pathsep.join(["/usr/local/sbin", "/usr/sbin", "/sbin"])
    return shutil.which(name, path=os.environ.get("PATH", os.defpath) + os.pathsep + extra)


@dataclass
class Varnish:
    """A varnishd started by a test: its listening URL, work dir and process."""

    base_url: str
    workdir: Path
    process: subprocess.Popen
    log: Path
    backend: Server

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Response:
        return fetch(self.base_url + path, headers)

    def request(
        self, method: str, path: str, headers: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> Response:
        return fetch(self.base_url + path, headers, method=method, body=body)

    def varnishlog(self) -> str:
        """What varnishd logged so far (for failure messages); empty if varnishlog is missing."""
        binary = sbin_which("varnishlog")
        if binary is None:
            return ""
        try:
            result = subprocess.run(
                [binary, "-d", "-n", str(self.workdir / "n"), "-g", "request"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return "(varnishlog timed out)"
        return result.stdout[-20000:]


def render_vcl(template: str, **values: object) -> str:
    """Fill in @NAME@ placeholders; every placeholder must be given."""
    for name, value in values.items():
        template = template.replace(f"@{name.upper()}@", str(value))
    leftover = re.search(r"@[A-Z_]+@", template)
    assert leftover is None, f"VCL placeholder {leftover.group()} has no value"
    return template


@contextmanager
def varnish(
    binary: str, backend: Server, vcl: str, *, start_timeout: float = 60.0, port: int | None = None
) -> Iterator[Varnish]:
    """varnishd in the foreground on a (given or free) loopback port, with its own -n dir, stopped by pid."""
    workdir = Path(tempfile.mkdtemp(prefix="httpcache-varnish-"))
    vcl_path = workdir / "test.vcl"
    vcl_path.write_text(vcl)
    port = port or free_port()
    log = workdir / "varnishd.log"
    command = [
        binary,
        "-F",  # foreground: the process we started is the manager, and its pid is ours to stop
        "-a",
        f"127.0.0.1:{port}",
        "-f",
        str(vcl_path),
        "-n",
        str(workdir / "n"),
        "-P",
        str(workdir / "varnishd.pid"),
        "-s",
        "malloc,32m",
        "-j",
        "none",  # no privilege separation: the test's temp dirs stay usable as they are
        "-T",
        "none",  # no management port
    ]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    instance = Varnish(f"http://127.0.0.1:{port}", workdir, process, log, backend)
    try:

        def ready() -> bool:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                pass
            return instance.get("/health/").status == 200

        wait_until_ready("varnishd", process, log, ready, timeout=start_timeout)
        yield instance
    finally:
        stop_process(process)
        shutil.rmtree(workdir, ignore_errors=True)


def manage(server: Server, *args: str, timeout: float = 120.0) -> str:
    """manage.py in the server's environment, bounded in time."""
    result = subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=EXAMPLE,
        env={**os.environ, **server.env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def add_user(server: Server, username: str, password: str) -> None:
    """Create (or reset) a user in the example's database."""
    manage(
        server,
        "shell",
        "-c",
        "from django.contrib.auth import get_user_model\n"
        f"user, _ = get_user_model().objects.get_or_create(username={username!r})\n"
        f"user.email = {username + '@example.com'!r}\n"
        f"user.set_password({password!r})\n"
        "user.save()\n",
    )


def session_cookie(server: Server, username: str) -> str:
    """A real, logged-in session for `username`, as a Cookie header value."""
    out = manage(
        server,
        "shell",
        "-c",
        "from django.conf import settings\n"
        "from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model\n"
        "from django.contrib.sessions.backends.db import SessionStore\n"
        f"user = get_user_model().objects.get(username={username!r})\n"
        "store = SessionStore()\n"
        "store[SESSION_KEY] = str(user.pk)\n"
        "store[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'\n"
        "store[HASH_SESSION_KEY] = user.get_session_auth_hash()\n"
        "store.create()\n"
        "print(settings.SESSION_COOKIE_NAME + '=' + store.session_key)\n",
    )
    cookie = out.strip().splitlines()[-1]
    assert "=" in cookie and len(cookie) > 20, out
    return cookie
