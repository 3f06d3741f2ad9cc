"""REDbot (PyPI `redbot`, "lint for HTTP") against every endpoint of the example project.

REDbot fetches the URL, lints the response with httplint, and probes the resource with
extra requests: If-None-Match with the ETag it got (note INM_304, GOOD, when the answer is
304), If-Modified-Since with the Last-Modified (IMS_304), a Range request and an
Accept-Encoding check. Its notes carry a level: GOOD, INFO, WARN or BAD.

Asserted here: no BAD note anywhere, and both conditional probes GOOD where the resource
has the validator.

Notes at WARN that REDbot gives today, and why they stay:
- STORE_PUBLIC_UNNECESSARY ("Cache-Control: public is probably not necessary") on the
  catalog and static responses. An opinion about header size: RFC 9111 §3.5 makes `public`
  matter only for requests with Authorization, and the library drops it there anyway. But
  `public` is also what the policy documents as "shared caches may store this" and what
  several CDNs require before caching, so the catalog policy keeps it.
- FRESHNESS_NO_CACHE_NO_VALIDATOR on the anonymous 401 of /api/me/: error responses get
  `no-cache` and no validator on purpose (R23), so nobody keeps a 401 as fresh.

How it runs: the `redbot URL -o har` CLI for anonymous requests. The CLI can't send request
headers, so /api/me/ with Basic auth goes through the same code the CLI runs (HttpResource
and the HAR formatter, from redbot.cli), with the header added; REDbot passes the request's
headers on to its probes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.live.server import BIN, EXAMPLE, basic_auth

from .conftest import require

REDBOT = BIN / "redbot"
TIMEOUT = 120  # seconds for one REDbot run (it takes about one)

# redbot.cli.main(), plus request headers (argv[2], a JSON object).
WITH_HEADERS = """
import json, sys
from configparser import ConfigParser
import thor
from redbot.formatter import find_formatter
from redbot.resource import HttpResource

url, headers = sys.argv[1], json.loads(sys.argv[2])
parser = ConfigParser()
parser.read_dict({"redbot": {"enable_local_access": "True"}})
config = parser["redbot"]
resource = HttpResource(config)
resource.set_request(url, headers=list(headers.items()))
formatter = find_formatter("har", "text", False)(
    config, resource, sys.stdout.write, {"tty_out": False, "descend": False}
)
formatter.bind_resource(resource)

@thor.events.on(formatter)
def formatter_done():
    thor.stop()

resource.check()
thor.run()
"""

INM, IMS = "INM_304", "IMS_304"  # redbot.resource.active_check.{etag,lm}_validate


@dataclass
class Endpoint:
    path: str
    status: int = 200
    good: tuple[str, ...] = ()  # probe notes that must be GOOD
    headers: dict[str, str] = field(default_factory=dict)


def static_asset() -> str:
    css = sorted((EXAMPLE / "catalog" / "static").glob("catalog/*.css"))
    return "/static/" + css[0].relative_to(EXAMPLE / "catalog" / "static").as_posix() if css else "/static/missing.css"


ENDPOINTS = [
    Endpoint("/products/", good=(INM, IMS)),
    Endpoint("/products/1/", good=(INM, IMS)),
    Endpoint("/health/"),  # no-store, no validators
    Endpoint("/api/products/", good=(INM, IMS)),
    Endpoint("/api/products/?page=2&page_size=10", good=(INM, IMS)),
    Endpoint("/api/products/?category=books", good=(INM, IMS)),
    Endpoint("/api/products/1/", good=(INM, IMS)),
    Endpoint("/api/categories/", good=(INM,)),  # body-hash ETag, no Last-Modified
    Endpoint("/api/me/", good=(INM,), headers=basic_auth("demo", "demo-password")),
    Endpoint("/api/me/", status=401),  # anonymous
    Endpoint("/api/ping/"),  # no-store, no validators
    Endpoint(static_asset(), good=(IMS,)),  # django.views.static.serve: Last-Modified only
]


def endpoint_id(endpoint: Endpoint) -> str:
    return endpoint.path + (" (authorization)" if endpoint.headers else "")


def run_redbot(url: str, headers: dict[str, str]) -> dict:
    if headers:
        command = [sys.executable, "-c", WITH_HEADERS, url, json.dumps(headers)]
    else:
        command = [str(REDBOT), "-o", "har", url]
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 0, f"REDbot failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    har = json.loads(result.stdout)
    entries = har["log"]["entries"]
    assert entries, f"REDbot got no response: {har['log'].get('_red_error')}\n{result.stderr}"
    return entries[0]


def flatten(notes: list[dict]) -> list[dict]:
    out = []
    for note in notes:
        out.append(note)
        out.extend(flatten(note.get("subnotes", [])))
    return out


def show(notes: list[dict]) -> str:
    return "\n".join(f"  {n['level']:5} {n['note_id']}: {n['summary']}" for n in notes)


@pytest.fixture(scope="module")
def redbot():
    require("redbot", REDBOT.exists(), "pip install -e '.[test]' (REDbot needs Python >= 3.11)")


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=endpoint_id)
def test_redbot_finds_nothing_bad(site, redbot, endpoint: Endpoint):
    entry = run_redbot(site.base_url + endpoint.path, endpoint.headers)
    notes = flatten(entry["_red_messages"])
    assert entry["response"]["status"] == endpoint.status, show(notes)

    bad = [note for note in notes if note["level"] == "BAD"]
    assert not bad, f"REDbot says BAD for {endpoint.path}:\n{show(bad)}\n\nall notes:\n{show(notes)}"

    by_id = {note["note_id"]: note for note in notes}
    for note_id in endpoint.good:
        assert note_id in by_id and by_id[note_id]["level"] == "GOOD", (
            f"{endpoint.path}: REDbot's conditional probe did not report {note_id} GOOD:\n{show(notes)}"
        )
    if not endpoint.good:
        # No validators: REDbot must not have found any to probe.
        assert not {INM, IMS} & set(by_id), show(notes)


def test_static_asset_exists():
    # The static endpoint above is found by globbing; make sure it found the real file.
    assert Path(EXAMPLE / "catalog" / "static" / static_asset().removeprefix("/static/")).is_file()
