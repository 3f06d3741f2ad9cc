"""Command-line options of the suite: the conformance table and the reliability runs."""

from __future__ import annotations


def pytest_addoption(parser):
    parser.addoption("--conformance-table", metavar="PATH", help="write the rule -> surfaces -> tests table")
    parser.addoption("--reliability", action="store_true", help="also run the long reliability tests")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--reliability"):
        return
    kept = [item for item in items if item.get_closest_marker("reliability") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


def pytest_collection_finish(session):
    path = session.config.getoption("--conformance-table")
    if path:
        from pathlib import Path

        from tests.conformance.table import write

        write([item.nodeid for item in session.items if "tests/conformance/" in item.nodeid], Path(path))


def pytest_terminal_summary(terminalreporter):
    from tests.reliability import RESULTS, table

    if RESULTS:
        terminalreporter.section("reliability")
        terminalreporter.write_line(table())
