"""Write docs/conformance.md: which tests check each rule of the RFC checklist, on which surface."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

RULES = {
    "R01": "Preconditions only where the response would be 2xx; 401/403/404 stay",
    "R02": "Conditional headers ignored for CONNECT, OPTIONS, TRACE",
    "R03": "Evaluation order of If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since",
    "R04": "If-Match uses strong comparison; `*` matches an existing representation",
    "R05": "Failed If-Match: 412, method not performed",
    "R06": "If-Unmodified-Since: ignored with If-Match, invalid dates, no Last-Modified",
    "R07": "If-None-Match: weak comparison, lists, `*`",
    "R08": "Failed If-None-Match: 304 for GET/HEAD, 412 otherwise; PUT with `*` creates only",
    "R09": "If-Modified-Since: GET/HEAD only, ignored with If-None-Match or invalid dates, whole seconds",
    "R10": "HEAD is handled like GET",
    "R11": "A 304 repeats the 200's cache headers, carries no body",
    "R12": "Cache-Control and ETag of a 304 equal those of the 200",
    "R13": "Entity-tag syntax",
    "R14": "A strong tag changes with the bytes, the format and the content coding",
    "R15": "Last-Modified never later than now",
    "R16": "A PUT/PATCH 2xx carries new validators only when its body is the current representation",
    "R17": "428 when a required If-Match is missing",
    "R18": "public/private exclusive, no-store wins, seconds are integers",
    "R19": "Vary lists what selects the representation",
    "R20": "Responses to Authorization requests are never shared",
    "R21": "Session users and Set-Cookie: never public, never s-maxage",
    "R22": "must-understand with no-store; immutable with a long max-age",
    "R23": "Errors get no freshness lifetime",
    "R24": "No stale 304 after any change; a rollback changes nothing",
    "R25": "Versions are read before the data they describe: a spare 200, never a stale 304",
    "R26": "Validators cover every tracked model a representation reads, observed or declared",
    "R27": "CDN-Cache-Control follows Cache-Control's syntax and the same safety rules",
    "R28": "Purges go out after commit, deduplicated; a rollback purges nothing; failures retried",
    "R29": "A stored response is served only under its validator and variant; private ones never stored",
    "R30": "Cache-Status names the cache and reports hit or fwd truthfully; Server-Timing has no user data",
}
COLUMNS = {"decorator": "decorator", "middleware": "middleware", "drf": "DRF"}
_RULE = re.compile(r"test_(r\d\d)_")


def surface_of(nodeid: str) -> set[str]:
    params = nodeid.partition("[")[2]
    found = {column for token, column in COLUMNS.items() if token in params}
    return found or {"(unit)"}


def write(nodeids: list[str], path: Path) -> None:
    by_rule: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for nodeid in nodeids:
        match = _RULE.search(nodeid)
        if not match:
            continue
        rule = match.group(1).upper()
        function = nodeid.split("::")[-1].partition("[")[0]
        for column in surface_of(nodeid):
            by_rule[rule][column].add(function)
    lines = [
        "# Conformance",
        "",
        "Every rule of the RFC checklist, the surfaces its tests run against, and the tests. "
        "Generated from `tests/conformance/` by `make test` (do not edit by hand); the cells count "
        "distinct test functions, each parametrized over sync and async views where both exist.",
        "",
        "| rule | | decorator | middleware | DRF | tests |",
        "|---|---|---|---|---|---|",
    ]
    for rule, title in RULES.items():
        cells = by_rule.get(rule, {})
        counts = [str(len(cells.get(c, ()))) if cells.get(c) else "—" for c in COLUMNS.values()]
        tests = sorted({t for funcs in cells.values() for t in funcs})
        listed = "<br>".join(f"`{t}`" for t in tests) or "**none**"
        lines.append(f"| {rule} | {title} | " + " | ".join(counts) + f" | {listed} |")
    lines.append("")
    path.write_text("\n".join(lines))
