"""Version matrix: `nox -l` lists the sessions, `nox -s "tests(3.13-django6.1)"` runs one.

Interpreters come from pyenv (~/.pyenv/versions/*/bin), appended to PATH so that
`python3.12` and `python3.13` are found.
"""

from __future__ import annotations

import glob
import os

import nox

for _bin in sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/*/bin"))):
    if _bin not in os.environ.get("PATH", ""):
        os.environ["PATH"] = os.environ.get("PATH", "") + os.pathsep + _bin

nox.options.sessions = ["tests"]
nox.options.reuse_existing_virtualenvs = True

# Django 5.2 LTS needs Python >= 3.10; Django 6.x needs >= 3.12.
MATRIX = [
    ("3.11", "5.2"),
    ("3.12", "6.0"),
    ("3.13", "6.0"),
    ("3.12", "6.1"),
    ("3.13", "6.1"),
]


@nox.session
@nox.parametrize(("python", "django"), MATRIX, ids=[f"{p}-django{d}" for p, d in MATRIX])
def tests(session: nox.Session, django: str) -> None:
    """The whole suite (live tests included) on one Python and Django, latest DRF."""
    session.install("-e", ".[test]", f"django~={django}.0", "djangorestframework")
    session.run("python", "-m", "django", "--version")
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs)
