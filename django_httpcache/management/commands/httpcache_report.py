"""``manage.py httpcache_report``: every URL pattern, its cache policy, validators,
dependencies and Vary; then the policies, used or not."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from django_httpcache.conf import conf
from django_httpcache.report import Policies, Row, policies, rows

HEADER = ["route", "name", "policy (source)", "validators", "vary"]


def _cells(row: Row) -> list[str]:
    return [row.route, row.name, f"{row.policy} ({row.source})", row.validators, ", ".join(row.vary) or "—"]


class Command(BaseCommand):
    help = (
        "Show the cache matrix: each URL pattern's policy (and its source), validators, dependencies, "
        "Vary and warnings, then the policies defined, unused and undefined."
    )
    requires_system_checks: list[str] = []  # a report is most useful when checks fail

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["text", "json", "markdown"], default="text")
        parser.add_argument(
            "--all",
            action="store_true",
            help="Also list routes of views installed from outside the project (admin, third-party apps); "
            "by default they are counted per package. Routes a RULES entry covers are always listed.",
        )

    def handle(self, *args: Any, format: str, all: bool, **options: Any) -> None:
        with conf.quiet():  # problems are manage.py check's to report, not log lines in the output
            found, summary = list(rows()), policies()
        hidden = Counter(row.third_party for row in found if row.third_party and not all)
        shown = [row for row in found if all or not row.third_party]
        if format == "json":
            data = {
                "routes": [row.as_dict() for row in shown],
                "hidden": dict(sorted(hidden.items())),
                "policies": {"defined": summary.defined, "unused": summary.unused, "undefined": summary.undefined},
            }
            self.stdout.write(json.dumps(data, indent=2))
        elif format == "markdown":
            self._markdown(shown, hidden, summary)
        else:
            self._text(shown, hidden, summary)

    def _text(self, shown: list[Row], hidden: Counter[str], summary: Policies) -> None:
        table = [_cells(row) for row in shown]
        widths = [max(len(str(cell)) for cell in column) for column in zip(HEADER, *table, strict=False)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        self.stdout.write(line.format(*HEADER).rstrip())
        self.stdout.write(line.format(*("-" * w for w in widths)).rstrip())
        for row, cells in zip(shown, table, strict=True):
            self.stdout.write(line.format(*cells).rstrip())
            if row.dependencies:
                self.stdout.write(f"    depends on: {', '.join(row.dependencies)}")
            if row.tag_header:
                self.stdout.write(f"    CDN tags: {row.tag_header}")
            for warning in row.warnings:
                self.stdout.write(self.style.WARNING(f"    ! {warning}"))
        for package, count in sorted(hidden.items()):
            self.stdout.write(f"({count} routes of {package} not listed; --all lists them)")
        self.stdout.write("\nPolicies:")
        for name, header in summary.defined.items():
            unused = "  (unused)" if name in summary.unused else ""
            self.stdout.write(f"  {name}: {header}{unused}")
        for name, where in summary.undefined.items():
            msg = f"  {name}: UNDEFINED, served no-store; used by {', '.join(where)}"
            self.stdout.write(self.style.WARNING(msg))

    def _markdown(self, shown: list[Row], hidden: Counter[str], summary: Policies) -> None:
        def cell(text: str) -> str:
            return text.replace("|", "\\|") or "—"

        out = ["| " + " | ".join([*HEADER, "depends on", "warnings"]) + " |", "|" + "---|" * (len(HEADER) + 2)]
        for row in shown:
            cells = [f"`{row.route}`", *_cells(row)[1:], ", ".join(row.dependencies), "; ".join(row.warnings)]
            out.append("| " + " | ".join(cell(c) for c in cells) + " |")
        out += [
            f"\n{count} routes of `{package}` are not listed (`--all` lists them)." for package, count in hidden.items()
        ]
        out += ["\n**Policies**\n", "| policy | Cache-Control | used |", "|---|---|---|"]
        out += [
            f"| `{name}` | `{header}` | {'no' if name in summary.unused else 'yes'} |"
            for name, header in summary.defined.items()
        ]
        out += [
            f"| `{name}` | undefined: served `no-store` | {cell(', '.join(where))} |"
            for name, where in summary.undefined.items()
        ]
        self.stdout.write("\n".join(out))
