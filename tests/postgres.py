"""A throwaway PostgreSQL cluster for the suite's PostgreSQL pass (HTTPCACHE_TEST_DB=postgres).

The first process that needs it (pytest, when tests/settings.py is imported) runs ``initdb``
into a temporary directory, serves it on a free loopback port with trust authentication and
no durability (fsync, synchronous_commit and full_page_writes off: the data is thrown away),
and stops it (immediate shutdown) and removes the directory at exit. It exports the port as
HTTPCACHE_TEST_PG_PORT, so processes it starts (manage.py, gunicorn) use the same cluster.
initdb and postgres refuse to run as root: as root they run as the ``postgres`` system user
that Debian's ``postgresql`` package creates.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.live.server import free_port, run, stop_process, wait_until_ready

CHOICES = ("sqlite", "postgres")
PORT_VARIABLE = "HTTPCACHE_TEST_PG_PORT"
SUPERUSER = "postgres"
DATABASE = "httpcache"
MISSING = (
    "HTTPCACHE_TEST_DB=postgres needs PostgreSQL's server binaries (Debian package postgresql, "
    "`make prereqs` installs it) and the driver psycopg (`pip install -e '.[test]'`)"
)


def selected() -> bool:
    """Whether this run of the suite is on PostgreSQL (HTTPCACHE_TEST_DB, default sqlite)."""
    choice = os.environ.get("HTTPCACHE_TEST_DB", "sqlite")
    if choice not in CHOICES:
        raise RuntimeError(f"HTTPCACHE_TEST_DB={choice!r}: expected one of {', '.join(CHOICES)}")
    return choice == "postgres"


def binaries() -> Path:
    """The newest installed server's bin directory (/usr/lib/postgresql/<major>/bin)."""
    found = sorted(
        (Path(path).parent for path in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1]
    initdb = shutil.which("initdb")
    if initdb is None:
        raise RuntimeError(MISSING)
    return Path(initdb).parent


@dataclass
class Cluster:
    port: int
    host: str = "127.0.0.1"

    def url(self, name: str = DATABASE) -> str:
        return f"postgres://{SUPERUSER}@{self.host}:{self.port}/{name}"

    def settings(self, name: str = DATABASE) -> dict[str, Any]:
        """An entry of Django's DATABASES for database ``name`` of this cluster."""
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": SUPERUSER,
            "HOST": self.host,
            "PORT": str(self.port),
        }

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        try:
            import psycopg
        except ImportError as error:
            raise RuntimeError(MISSING) from error

        with psycopg.connect(
            host=self.host, port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True, connect_timeout=5
        ) as connection:
            connection.execute(sql)

    def create_database(self, prefix: str = "httpcache_") -> str:
        name = prefix + uuid.uuid4().hex[:12]
        self.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _as_owner() -> dict[str, Any]:
    """Popen arguments that run initdb/postgres as a non-root user (they refuse root)."""
    if os.geteuid() != 0:
        return {}
    try:
        owner = pwd.getpwnam(SUPERUSER)
    except KeyError as error:
        raise RuntimeError(
            f"running as root, and there is no `{SUPERUSER}` system user to run PostgreSQL as "
            "(the Debian package postgresql creates it)"
        ) from error
    return {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}


def start() -> tuple[Cluster, subprocess.Popen, Path]:
    """initdb and serve a fresh cluster; returns it, the postmaster process and its directory."""
    bin_dir = binaries()
    owner = _as_owner()
    workdir = Path(tempfile.mkdtemp(prefix="httpcache-postgres-"))
    if owner:
        os.chown(workdir, owner["user"], owner["group"])
    data, log = workdir / "data", workdir / "postgres.log"
    try:
        run(
            [bin_dir / "initdb", "-D", data, "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"],
            "initdb",
            cwd=workdir,
            **owner,
        )
        cluster = Cluster(free_port())
        settings = {
            "listen_addresses": cluster.host,
            "port": cluster.port,
            "unix_socket_directories": workdir,
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": 200,
        }
        options = [f"--{name.replace('_', '-')}={value}" for name, value in settings.items()]
        with open(log, "wb") as output:
            process = subprocess.Popen(
                [bin_dir / "postgres", "-D", data, *options],
                cwd=workdir,
                stdout=output,
                stderr=subprocess.STDOUT,
                **owner,
            )
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    try:
        wait_until_ready("postgres", process, log, lambda: _accepts(cluster))
        cluster.execute(f'CREATE DATABASE "{DATABASE}"')
    except BaseException:
        stop(process, workdir)
        raise
    return cluster, process, workdir


def _accepts(cluster: Cluster) -> bool:
    try:
        cluster.execute("SELECT 1")
    except RuntimeError:
        raise
    except Exception:  # not up yet: refused, or "the database system is starting up"
        return False
    return True


def stop(process: subprocess.Popen, workdir: Path) -> None:
    """Immediate shutdown (SIGQUIT to the postmaster we started), then remove its directory."""
    stop_process(process, signal.SIGQUIT)
    shutil.rmtree(workdir, ignore_errors=True)


_cluster: Cluster | None = None


def suite_cluster() -> Cluster:
    """The suite's cluster: the one a parent process exported, else one started here."""
    global _cluster
    if _cluster is None:
        if os.environ.get(PORT_VARIABLE):
            _cluster = Cluster(int(os.environ[PORT_VARIABLE]))
        else:
            _cluster, process, workdir = start()
            atexit.register(stop, process, workdir)
            os.environ[PORT_VARIABLE] = str(_cluster.port)
    return _cluster
