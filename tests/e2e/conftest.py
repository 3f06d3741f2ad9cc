"""End-to-end tests against real peers: Varnish, Chromium, caching HTTP clients, REDbot.

They run in `make test` (which installs the Debian packages they need). Without a
prerequisite they fail when CI=true and are skipped, saying what is missing, elsewhere.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.live.server import example_server

pytestmark = pytest.mark.live

IN_CI = os.environ.get("CI") == "true"


def require(what: str, present: bool, how: str) -> None:
    """Fail in CI, skip (with the reason) elsewhere, when a prerequisite is missing."""
    if present:
        return
    message = f"{what} is missing: {how}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)  # outside CI only: with CI=true the line above fails instead


def require_binary(name: str, package: str) -> str:
    path = shutil.which(name)
    require(name, path is not None, f"install the Debian package {package} (make prereqs does)")
    return path  # type: ignore[return-value]


@pytest.fixture(scope="module")
def site():
    """The example project under gunicorn: 2 workers, catalog max-age 2 s, 50 products."""
    with example_server(workers=2, env={"EXAMPLE_CATALOG_MAX_AGE": "2"}, products=50) as server:
        yield server
