"""Loaded first, so that the suite's command-line options are known (see tests/pytest_plugin.py)."""

from tests.pytest_plugin import (  # noqa: F401
    pytest_addoption,
    pytest_collection_finish,
    pytest_collection_modifyitems,
    pytest_terminal_summary,
)
