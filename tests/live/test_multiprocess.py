"""The example project under gunicorn with several worker processes: no stale 304 (R24)."""

from __future__ import annotations

import pytest

from tests.live.server import example_server

pytestmark = pytest.mark.live

MODES = {
    "default settings": {},
    "counter mode, file store": {"HTTPCACHE_VERSION_MODE": "counter"},
}


@pytest.mark.parametrize("env", MODES.values(), ids=list(MODES))
def test_r24_no_stale_304_across_workers(env):
    with example_server(workers=4, env=env) as server:
        detail, listing = "/api/products/1/", "/api/products/?page_size=10"
        old = {url: server.get(url, accept="application/json") for url in (detail, listing)}
        for url, response in old.items():
            assert response.status == 200
            # every worker agrees on the tag before the write
            for _ in range(8):
                assert server.get(url, accept="application/json", if_none_match=response.headers["ETag"]).status == 304
        write = server.request(
            "PATCH",
            detail,
            {**server.auth, "If-Match": old[detail].headers["ETag"], "Accept": "application/json"},
            {"price": "123.45"},
        )
        assert write.status == 200, write.body
        for url, response in old.items():
            statuses = [
                server.get(url, accept="application/json", if_none_match=response.headers["ETag"]).status
                for _ in range(20)
            ]
            assert statuses == [200] * 20, f"stale 304 on {url}: {statuses}"


def test_counter_mode_refuses_a_per_process_store():
    """LocMemCache as the version store: refused at run time too, so still no stale 304."""
    env = {"HTTPCACHE_VERSION_MODE": "counter", "EXAMPLE_VERSION_BACKEND": "locmem"}
    with example_server(workers=4, env=env) as server:
        old = server.get("/api/products/", accept="application/json")
        write = server.request(
            "PATCH",
            "/api/products/1/",
            {**server.auth, "If-Match": server.get("/api/products/1/", accept="application/json").headers["ETag"]},
            {"price": "1.00"},
        )
        assert write.status == 200
        statuses = [
            server.get("/api/products/", accept="application/json", if_none_match=old.headers["ETag"]).status
            for _ in range(20)
        ]
        assert 304 not in statuses
        assert "Counter mode refused" in server.log.read_text()
        with pytest.raises(RuntimeError, match=r"httpcache\.E020"):
            server.manage("check")
