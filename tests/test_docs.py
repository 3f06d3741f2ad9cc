"""The Python snippets of README.md and docs/*.md are exact: they parse, what they import
exists, and a standalone snippet binds every name it uses and runs.

A marker on the line before a fence checks less (docs/testing.md, "Snippets in the docs"):
``<!-- no-run -->`` complete but needs a project around it (it defines models): not run;
``<!-- excerpt -->`` its names may come from the text around it: not run, names not checked
(never in README.md, whose snippets must be complete); ``<!-- no-parse -->`` not a program
(a signature, one dict entry): skipped.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<indent> *)```python[^\n]*\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)
MARKER = re.compile(r"<!--\s*(no-run|excerpt|no-parse)\s*-->")


@dataclass(frozen=True)
class Snippet:
    page: str
    line: int
    code: str
    marker: str | None

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def snippets() -> list[Snippet]:
    found = []
    for path in PAGES:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            before = text[: match.start()].rstrip().rsplit("\n", 1)[-1]
            marker = MARKER.search(before)
            indent = len(match["indent"])
            code = "\n".join(line[indent:] for line in match["body"].splitlines())
            line = text.count("\n", 0, match.start()) + 1
            found.append(Snippet(str(path.relative_to(ROOT)), line, code, marker and marker[1]))
    return found


SNIPPETS = [s for s in snippets() if s.marker != "no-parse"]


def unbound_names(tree: ast.AST) -> set[str]:
    """Names read but never bound anywhere in the snippet (scopes flattened: good enough
    to catch a missing import, which is what this is for)."""
    bound, read = set(dir(builtins)), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store) else read).add(node.id)
    return read - bound


def check_imports(tree: ast.AST, where: Snippet) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                importlib.import_module(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:  # not the reader's own app
            module = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(module, alias.name):
                    # A submodule (from django_httpcache import testing) is a name too.
                    importlib.import_module(f"{node.module}.{alias.name}")


def test_snippets_found():
    pages = {s.page for s in SNIPPETS}
    assert "README.md" in pages and "docs/quickstart.md" in pages
    assert len(SNIPPETS) > 40
    assert not [s for s in snippets() if s.page == "README.md" and s.marker in ("excerpt", "no-parse")]


@pytest.mark.parametrize("snippet", SNIPPETS, ids=str)
def test_snippet(snippet: Snippet):
    try:
        tree = ast.parse(snippet.code)
    except SyntaxError as exc:
        pytest.fail(f"{snippet} does not parse ({exc}); mark it <!-- no-parse --> if it is not a program")
    check_imports(tree, snippet)
    if snippet.marker == "excerpt":
        return
    missing = unbound_names(tree)
    assert not missing, f"{snippet} uses {sorted(missing)} without importing or defining them"
    if snippet.marker == "no-run":
        return
    exec(compile(tree, str(snippet), "exec"), {"__name__": "docs_snippet"})
