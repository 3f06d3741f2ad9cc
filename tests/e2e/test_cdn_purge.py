"""Purge after commit, end to end: the example project (HTTPCACHE_PURGE=varnish) behind a
real Varnish 7 with vmod-xkey, configured by example_project/deploy/varnish.vcl.

- catalog lists and details are stored for a day (CDN-Cache-Control) and served as HITs,
  with the xkey header kept from clients;
- a PATCH through the API, a bulk update() or a category rename from another process
  (manage.py shell) purges them: the next request is a MISS with the new body, within a
  second of the commit, while unrelated cached URLs stay HITs;
- a rolled-back write purges nothing;
- with the purge endpoint down, the write takes no longer, and the purge is retried until
  it gets through.
"""

from __future__ import annotations

import glob
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.live.server import Response, basic_auth, example_server, free_port

from .conftest import require
from .peers import Varnish, manage, sbin_which, varnish

VCL = Path(__file__).resolve().parents[2] / "example_project" / "deploy" / "varnish.vcl"
JSON = {"Accept": "application/json"}
ALICE = basic_auth("demo", "demo-password")
WITHIN = 1.0  # seconds from the commit to the new body through Varnish


@pytest.fixture(scope="module")
def cache() -> Iterator[Varnish]:
    binary = sbin_which("varnishd")
    require("varnishd", binary is not None, "install the Debian package varnish (make prereqs does)")
    has_xkey = bool(glob.glob("/usr/lib/*/varnish/vmods/libvmod_xkey.so"))
    require("vmod-xkey", has_xkey, "install the Debian package varnish-modules (make prereqs does)")
    port = free_port()
    env = {"HTTPCACHE_PURGE": "varnish", "HTTPCACHE_VARNISH_URL": f"http://127.0.0.1:{port}"}
    with example_server(workers=2, env=env, products=30) as site:
        backend_port = site.base_url.rsplit(":", 1)[1]
        vcl = VCL.read_text().replace('.port = "8000";', f'.port = "{backend_port}";')
        assert f'.port = "{backend_port}";' in vcl
        with varnish(binary, site, vcl, port=port) as instance:  # type: ignore[arg-type]
            yield instance


def warm(cache: Varnish, path: str) -> Response:
    """Requests until Varnish serves ``path`` as a HIT (the first fills it)."""
    for _ in range(3):
        response = cache.get(path, JSON)
        if response.headers.get("X-Cache") == "HIT":
            return response
    raise AssertionError(f"{path} is never a HIT: {response.status} {dict(response.headers)}")


def name_in(response: Response, pk: int) -> str:
    data = response.json()
    items = data.get("results", [data]) if isinstance(data, dict) else data
    return next(item["name"] for item in items if item["id"] == pk)


def until_fresh(cache: Varnish, path: str, check, since: float) -> tuple[Response, float]:
    """Poll ``path`` through Varnish until ``check(response)``: the response, and when the
    request that got it was sent (after the purge had arrived), counted from ``since``.
    The origin's render time, long on a loaded machine, is not the purge's."""
    while True:
        sent = time.monotonic() - since
        response = cache.get(path, JSON)
        if check(response):
            return response, sent
        assert sent < WITHIN * 5, f"{path}: still the old body {sent:.2f} s after the commit"
        time.sleep(0.02)


def shell(cache: Varnish, code: str, **env: str) -> str:
    server = cache.backend
    saved = dict(server.env)
    server.env.update(env)
    try:
        return manage(server, "shell", "-c", code)
    finally:
        server.env.clear()
        server.env.update(saved)


def test_catalog_is_stored_tagged_and_keys_are_hidden(cache):
    for path in ("/api/products/", "/api/products/1/", "/api/tags/", "/products/"):
        response = warm(cache, path)
        assert "xkey" not in {name.lower() for name in response.headers}, path
        assert response.headers["CDN-Cache-Control"].startswith("max-age=86400"), path


def test_patch_through_the_api_purges_list_and_detail(cache):
    paths = ("/api/products/", "/api/products/2/")
    for path in (*paths, "/api/tags/"):
        warm(cache, path)
    current = cache.get("/api/products/2/", JSON)
    body = json.dumps({"name": "Patched through Varnish"}).encode()
    headers = {**ALICE, **JSON, "Content-Type": "application/json", "If-Match": current.headers["ETag"]}
    written = cache.request("PATCH", "/api/products/2/", headers, body)
    assert written.status == 200, written.body
    committed = time.monotonic()
    for path in paths:
        _, elapsed = until_fresh(cache, path, lambda r: name_in(r, 2) == "Patched through Varnish", committed)
        assert elapsed < WITHIN, f"{path}: {elapsed:.2f} s"
    assert cache.get("/api/tags/", JSON).headers["X-Cache"] == "HIT"  # unrelated: kept


@pytest.mark.parametrize(
    ("code", "path", "check"),
    [
        (
            "from catalog.models import Product; Product.objects.filter(pk=3).update(name='Bulk renamed')",
            "/api/products/3/",
            lambda r: name_in(r, 3) == "Bulk renamed",
        ),
        (
            "from catalog.models import Category; c = Category.objects.get(products__pk=4);"
            " c.name = 'Renamed category'; c.save()",
            "/api/products/4/",
            lambda r: r.json()["category_name"] == "Renamed category",
        ),
    ],
    ids=["bulk update", "category rename"],
)
def test_writes_from_another_process_purge(cache, code, path, check):
    warm(cache, path)
    warm(cache, "/api/tags/")
    shell(cache, code)
    committed = time.monotonic()  # at the latest (the command exits after its purges went out)
    response, elapsed = until_fresh(cache, path, check, committed)
    assert response.headers["X-Cache"] == "MISS" or elapsed < WITHIN
    assert cache.get("/api/tags/", JSON).headers["X-Cache"] == "HIT"


def test_a_rolled_back_write_purges_nothing(cache):
    before = warm(cache, "/api/products/5/")
    shell(
        cache,
        "from django.db import transaction\n"
        "from catalog.models import Product\n"
        "try:\n"
        "    with transaction.atomic():\n"
        "        Product.objects.filter(pk=5).update(name='Never committed')\n"
        "        raise RuntimeError\n"
        "except RuntimeError:\n"
        "    pass\n",
    )
    time.sleep(0.3)
    after = cache.get("/api/products/5/", JSON)
    assert after.headers["X-Cache"] == "HIT" and after.body == before.body


@contextmanager
def forwarder(listen: int, target: int) -> Iterator[None]:
    """A TCP forwarder from 127.0.0.1:listen to 127.0.0.1:target (the purge endpoint, back up)."""
    server = socket.create_server(("127.0.0.1", listen))
    server.settimeout(0.2)
    stop = threading.Event()

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            dst.close()

    def serve() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            upstream = socket.create_connection(("127.0.0.1", target))
            threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)
        server.close()


def test_a_purge_endpoint_down_delays_nothing_and_is_retried(cache):
    warm(cache, "/api/products/6/")
    down = free_port()
    code = (
        "import time\n"
        "from catalog.models import Product\n"
        "start = time.monotonic()\n"
        "Product.objects.filter(pk=6).update(name='Purged on retry')\n"
        "print(f'write took {time.monotonic() - start:.3f}')\n"
    )
    varnish_port = int(cache.base_url.rsplit(":", 1)[1])
    result: dict[str, str] = {}
    command = threading.Thread(
        target=lambda: result.update(out=shell(cache, code, HTTPCACHE_VARNISH_URL=f"http://127.0.0.1:{down}"))
    )
    command.start()
    time.sleep(1.0)  # the first purges fail: nothing listens on `down`
    assert cache.get("/api/products/6/", JSON).headers["X-Cache"] == "HIT"
    with forwarder(down, varnish_port):
        started = time.monotonic()
        until_fresh(cache, "/api/products/6/", lambda r: name_in(r, 6) == "Purged on retry", started)
        command.join(15)
    assert not command.is_alive()
    took = float(result["out"].split("write took ")[1].split()[0])
    assert took < 0.5, result["out"]  # the write did not wait for the purge
