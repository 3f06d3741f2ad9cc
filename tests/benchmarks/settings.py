"""Benchmark settings: the example project's, with its own database and URLs."""

import os

from example_project.settings import *  # noqa: F403
from example_project.settings import CACHES, DATABASES, HTTPCACHE

DEBUG = False
ROOT_URLCONF = "tests.benchmarks.urls"
DATABASES["default"]["NAME"] = os.environ.get("BENCH_DB", "/tmp/httpcache-bench.sqlite3")
MIDDLEWARE: list[str] = []  # each harness handler installs its own stack
CACHES["versions"] = {"BACKEND": "tests.benchmarks.cache.SingleProcessCache"}
HTTPCACHE = {**HTTPCACHE, "VERSION_CACHE": "versions"}
LOGGING = {"version": 1, "disable_existing_loggers": False}
