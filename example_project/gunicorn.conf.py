"""gunicorn settings of the example project (gunicorn reads this file from its working
directory): prometheus_client's multi-process mode, so that /metrics adds up the counts
of every worker, whichever one answers the scrape (docs/observe.md)."""

import os
import shutil
import tempfile
from pathlib import Path

_made: list[str] = []


def on_starting(server):
    # Before any worker imports prometheus_client: the workers inherit the variable.
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        folder = tempfile.mkdtemp(prefix="httpcache-prometheus-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        _made.append(folder)
    for stale in Path(folder).glob("*.db"):  # counts of an earlier run
        stale.unlink()


def child_exit(server, worker):
    try:
        from prometheus_client import multiprocess
    except ImportError:
        return
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    for folder in _made:
        shutil.rmtree(folder, ignore_errors=True)
