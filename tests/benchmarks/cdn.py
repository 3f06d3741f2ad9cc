"""Purging through a real Varnish: latency after commit, and hit ratios.

    python -m tests.benchmarks.cdn [--writes 1000] [--requests 6000]

Starts the example project (gunicorn) behind Varnish with example_project/deploy/varnish.vcl
and, in this process, Django on the same database, then measures:

1. purge latency: for each of ``--writes`` writes (a product's name), the time from the
   commit to the first response through Varnish with the new name (median, p99);
2. a mixed run (one save per 50 reads, over the list and 30 details), with purging on
   (a day in Varnish, purged after each commit) and TTL-only (no purges: the catalog's
   s-maxage=600): the hit ratio, and the share of detail reads that were stale.
"""

from __future__ import annotations

import argparse
import glob
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.peers import Varnish, sbin_which, varnish
from tests.live.server import Response, example_server, free_port

ROOT = Path(__file__).resolve().parents[2]
VCL = ROOT / "example_project" / "deploy" / "varnish.vcl"
JSON = {"Accept": "application/json"}
DETAILS = 30


@contextmanager
def behind_varnish(purging: bool) -> Iterator[Varnish]:
    binary = sbin_which("varnishd")
    if binary is None or not glob.glob("/usr/lib/*/varnish/vmods/libvmod_xkey.so"):
        sys.exit("varnishd and vmod-xkey are needed: make prereqs-varnish")
    port = free_port()
    env = {"HTTPCACHE_PURGE": "varnish", "HTTPCACHE_VARNISH_URL": f"http://127.0.0.1:{port}"} if purging else {}
    with example_server(workers=2, env=env, products=DETAILS) as site:
        vcl = VCL.read_text().replace('.port = "8000";', f'.port = "{site.base_url.rsplit(":", 1)[1]}";')
        with varnish(binary, site, vcl, port=port) as cache:  # type: ignore[arg-type]
            yield cache


def django_on(cache: Varnish) -> None:
    """This process as one more app process on the server's database and settings."""
    os.environ.update(cache.backend.env)
    sys.path.insert(0, str(ROOT / "example_project"))
    import django

    django.setup()


def name_of(response: Response) -> str:
    return str(response.json()["name"])


def rename(pk: int, name: str) -> None:
    """A write as an API edit makes it: one row saved (autocommit: committed on return),
    which purges the list and that product's detail. A queryset update() would purge
    every detail (it does not say which rows it changed)."""
    from catalog.models import Product

    product = Product.objects.get(pk=pk)
    product.name = name
    product.save()


def latency(cache: Varnish, writes: int) -> list[float]:
    delays = []
    for index in range(writes):
        pk = 1 + index % DETAILS
        path = f"/api/products/{pk}/"
        cache.get(path, JSON)  # stored (again) before the write
        name = f"latency {index}"
        rename(pk, name)
        committed = time.perf_counter()
        while name_of(cache.get(path, JSON)) != name:
            if time.perf_counter() - committed > 10:
                raise RuntimeError(f"{path} never showed {name!r}")
        delays.append(time.perf_counter() - committed)
    return delays


def mixed(cache: Varnish, requests: int, seed: int = 11) -> tuple[float, float]:
    """(hit ratio, stale share of detail reads) of a run with one write per 50 reads."""
    from catalog.models import Product

    rng = random.Random(seed)
    names = dict(Product.objects.values_list("pk", "name"))
    hits = reads = stale = details = 0
    for index in range(requests):
        if index % 51 == 50:
            pk = rng.randint(1, DETAILS)
            names[pk] = f"mixed {index}"
            rename(pk, names[pk])
            continue
        pk = rng.randint(0, DETAILS)
        response = cache.get(f"/api/products/{pk}/" if pk else "/api/products/", JSON)
        reads += 1
        hits += response.headers.get("X-Cache") == "HIT"
        if pk:
            details += 1
            stale += name_of(response) != names[pk]
    return hits / reads, stale / max(details, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--phase", choices=["purging", "ttl-only"], help="run one phase only (in this process)")
    args = parser.parse_args()
    if args.phase is None:  # each phase in its own process: its own server, database and Django
        for phase in ("purging", "ttl-only"):
            subprocess.run([sys.executable, "-m", "tests.benchmarks.cdn", *sys.argv[1:], "--phase", phase], check=True)
        return
    with behind_varnish(purging=args.phase == "purging") as cache:
        django_on(cache)
        if args.phase == "purging":
            delays = latency(cache, args.writes)
            quantiles = statistics.quantiles(delays, n=100)
            print(f"purge latency after commit, {len(delays)} writes through Varnish:")
            print(f"  median {statistics.median(delays) * 1000:.1f} ms, p99 {quantiles[98] * 1000:.1f} ms")
        ratio, stale = mixed(cache, args.requests)
    print(f"mixed run, {args.requests} requests (1 write per 50 reads), {args.phase}:")
    print(f"  hit ratio {ratio:.1%}, stale detail reads {stale:.1%}")


if __name__ == "__main__":
    main()
