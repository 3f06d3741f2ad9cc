"""``manage.py httpcache_report``: every URL pattern, its cache policy, validators, Vary."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from django_httpcache.report import rows


class Command(BaseCommand):
    help = "Show the cache matrix: each URL pattern's policy (and its source), validators, Vary and warnings."
    requires_system_checks: list[str] = []  # a report is most useful when checks fail

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args: Any, format: str, **options: Any) -> None:
        found = list(rows())
        if format == "json":
            self.stdout.write(json.dumps([row.as_dict() for row in found], indent=2))
            return
        header = ["route", "name", "policy (source)", "validators", "vary"]
        table = [
            [row.route, row.name, f"{row.policy} ({row.source})", row.validators, ", ".join(row.vary) or "—"]
            for row in found
        ]
        widths = [max(len(str(cell)) for cell in column) for column in zip(header, *table, strict=False)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        self.stdout.write(line.format(*header).rstrip())
        self.stdout.write(line.format(*("-" * w for w in widths)).rstrip())
        for row, cells in zip(found, table, strict=False):
            self.stdout.write(line.format(*cells).rstrip())
            for warning in row.warnings:
                self.stdout.write(self.style.WARNING(f"    ! {warning}"))
        policies = sorted({(row.policy, row.cache_control) for row in found if row.cache_control})
        if policies:
            self.stdout.write("\nPolicies:")
            for name, header_value in policies:
                self.stdout.write(f"  {name}: {header_value}")
