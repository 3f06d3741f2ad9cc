"""``manage.py httpcache_stats``: per-view outcome ratios over a recent window, from the
counts kept in HTTPCACHE['STATS_CACHE'] (see docs/observe.md)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_httpcache import stats
from django_httpcache.conf import conf
from django_httpcache.trace import OUTCOMES


class Command(BaseCommand):
    help = "Show, per view, how many responses ended in each outcome (200, stored 200, 304, 412, 428) recently."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--window", type=int, default=None, help="seconds (default HTTPCACHE['STATS_WINDOW'])")
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args: Any, window: int | None, format: str, **options: Any) -> None:
        if conf.STATS_CACHE is None:
            raise CommandError("HTTPCACHE['STATS_CACHE'] is not set: no counts are kept (see docs/observe.md).")
        window = window or conf.STATS_WINDOW
        totals = stats.read(window)
        if format == "json":
            self.stdout.write(json.dumps({view: dict(counts) for view, counts in sorted(totals.items())}, indent=2))
            return
        if not totals:
            self.stdout.write(f"No responses counted in the last {window} s.")
            return
        header = ["view", "responses", *OUTCOMES, "304 share"]
        table = []
        for view, counts in sorted(totals.items(), key=lambda item: -sum(item[1].values())):
            total = sum(counts.values())
            share = counts["not_modified"] / total
            table.append([view, str(total), *(str(counts[o]) for o in OUTCOMES), f"{share:.1%}"])
        widths = [max(len(row[i]) for row in (header, *table)) for i in range(len(header))]
        self.stdout.write(f"Last {window} s, all processes:")
        for row in (header, *table):
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
