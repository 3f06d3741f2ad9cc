"""Figures the reliability tests collect, printed as one table at the end of the run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

RESULTS: dict[str, Counter[str]] = {}
COLUMNS = ["steps", "revalidations", "304", "412", "false 304", "missed 304", "5xx", "lost updates"]


def record(name: str, figures: Mapping[str, int]) -> None:
    RESULTS[name] = Counter(figures)


def table() -> str:
    extra = sorted({key for figures in RESULTS.values() for key in figures} - set(COLUMNS))
    columns = COLUMNS + extra
    lines = ["| run | " + " | ".join(columns) + " |", "|---|" + "---|" * len(columns)]
    for name, figures in RESULTS.items():
        lines.append(f"| {name} | " + " | ".join(f"{figures.get(c, 0):,}" for c in columns) + " |")
    return "\n".join(lines)
