"""Benchmark settings: the example project's, with its own database and URLs."""

import os

from example_project.settings import *  # noqa: F403
from example_project.settings import CACHES, DATABASES, HTTPCACHE

DEBUG = False
ROOT_URLCONF = "tests.benchmarks.urls"
DATABASES["default"]["NAME"] = os.environ.get("BENCH_DB", "/tmp/httpcache-bench.sqlite3")
MIDDLEWARE: list[str] = []  # each harness handler installs its own stack
CACHES["versions"] = {"BACKEND": "tests.benchmarks.cache.SingleProcessCache"}
# Only the views that say so use the response store (tests/benchmarks/store.py).
_POLICIES = {**HTTPCACHE["POLICIES"], "catalog": {**HTTPCACHE["POLICIES"]["catalog"], "store": False}}
# Entries up to the N=10,000 list (about 3 MB of JSON).
_STORE = {**HTTPCACHE["RESPONSE_STORE"], "MAX_ENTRY_BYTES": 64 << 20}
# METRICS off (the example turns it on where prometheus_client is installed): the
# "metrics on" rows turn it on themselves.
HTTPCACHE = {
    **HTTPCACHE,
    "VERSION_CACHE": "versions",
    "POLICIES": _POLICIES,
    "RESPONSE_STORE": _STORE,
    "METRICS": False,
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
