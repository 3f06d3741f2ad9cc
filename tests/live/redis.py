"""A throwaway redis-server on a free loopback port, started and stopped by pid."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .server import free_port, stop_process, wait_until_ready


def redis_binary() -> str | None:
    return shutil.which("redis-server")


@dataclass
class RedisServer:
    port: int
    workdir: Path
    binary: str
    process: subprocess.Popen | None = field(default=None)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        # No persistence: a restart starts empty, as the docs recommend for a version store.
        log = self.workdir / "redis.log"
        with open(log, "ab") as output:
            self.process = self._spawn(output)
        wait_until_ready("redis-server", self.process, log, self.ping, timeout=10)

    def _spawn(self, output: IO[bytes]) -> subprocess.Popen:
        return subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.workdir),
                "--pidfile",
                str(self.workdir / "redis.pid"),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=10)
        self.process = None

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    binary = redis_binary()
    if binary is None:
        raise RuntimeError("redis-server is not installed (Debian package redis-server; `make bench` installs it)")
    server = RedisServer(free_port(), Path(tempfile.mkdtemp(prefix="httpcache-redis-")), binary)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)
