"""Storefront throughput under gunicorn, against a bare Flask page.

    .venv/bin/python -m bench.storefront_bench [--theme atelier] [--seconds 10] [--connections 32]

Makes a store with a published theme and 200 active products (three sizes
each, stock, one picture each, a collection of 48, the starter pages) and
its search index (built here as a worker would; any index left under
var/bench by an earlier run's store of the same id is replaced) in
bench.run's own database (`vitrine_bench` on DATABASE_URL or the embedded
PostgreSQL under var/bench/, REDIS_URL or an embedded Redis), then serves
the app with the web command `make run` uses (gunicorn, 2 workers of 4
threads, app.cli.web_command) and loads it from this process: asyncio,
`--connections` keep-alive HTTP/1.1 connections, each sending its next
request when the last answer is read, for `--seconds` per view after a
warm-up pass.

The views:
- bare: a 5 KB Jinja page with no database, on a route that exists only in
  this benchmark's app factory (`bench_app()`, served by the same gunicorn
  settings): the ceiling Flask, gunicorn and the app's request hooks allow.
- product / collection / home, cached: the same addresses again and again
  (products in turn), answered from the store's Redis page cache.
- ... uncached: every request carries a query string never sent before
  (`?bench=<n>`), which the page ignores but the cache key includes, so
  every answer is rendered from PostgreSQL through the theme (and then
  written to the cache, as a real miss is).

Writes bench/results/storefront.json and storefront.md.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import time
import uuid
from datetime import UTC, datetime

from bench.load import Load, one
from bench.run import RESULTS, VAR, _app, stop_embedded

PRODUCTS = 200
COLLECTION_SIZE = 48
BARE_PATH = "/_bench/bare"


# -- the benchmark's own app: the product plus one hidden page -------------------------------------------------------

BARE_TEMPLATE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1><ul>{% for row in rows %}<li><a href="/products/item-{{ row }}">Item {{ row }}</a>
<span class="price">{{ "%.2f"|format(row * 1.25) }}</span> <em>in stock</em></li>{% endfor %}</ul></body></html>"""


def bench_app():
    """gunicorn's `bench.storefront_bench:bench_app()`: the real app, and a
    bare page that renders a 5 KB template and touches no database."""
    from app import create_app

    return add_bare_page(create_app())


def add_bare_page(app):
    template = app.jinja_env.from_string(BARE_TEMPLATE)  # compiled once, as Flask's file templates are

    @app.get(BARE_PATH)
    def bare():
        return template.render(title="Bare page", rows=range(48))

    return app


# -- the store --------------------------------------------------------------------------------------------------------

def make_store(app, theme_name: str):
    """A store of PRODUCTS active products with a published theme; returns (handle, product handles, collection)."""
    from app.catalog import collections
    from app.catalog import products as catalog
    from app.catalog.product_images import add_image
    from app.catalog.products import OptionSpec
    from app.extensions import db
    from app.inventory import service as inventory
    from app.pages.service import add_starter_pages
    from app.search.service import rebuild
    from app.theming import service as theming
    from app.theming.registry import get_theme
    from tenants.context import store_context
    from tenants.provisioning import create_store, placement_of

    actor = "bench@example.com"
    with app.app_context():
        store = placement_of(create_store(handle=f"sf{uuid.uuid4().hex[:8]}", name="Bench Goods", currency="USD"))
        db.session.remove()
    with app.app_context(), store_context(store):
        location = inventory.default_location() or inventory.create_location("Main location")
        handles, ids = [], []
        for n in range(PRODUCTS):
            product = catalog.create_product(
                {"title": f"Bench product {n}", "price": f"{10 + n % 90}.00", "vendor": f"Vendor {n % 12}",
                 "product_type": "Goods", "sku": f"B{n:04d}", "status": "active",
                 "description_html": f"<p>Product <b>{n}</b>, made well, described at some length.</p>" * 3},
                options=[OptionSpec("Size", ["S", "M", "L"])], actor=actor)
            for variant in product.variants[:2]:
                inventory.adjust(variant.id, location.id, str(1 + n % 9), reason="received", actor=actor)
            add_image(product, _picture(n), alt=f"Bench product {n}")
            handles.append(product.handle)
            ids.append(product.id)
        everything = collections.create_collection({"title": "Everything"}, kind="manual")
        collections.set_products(everything, ids[:COLLECTION_SIZE])
        add_starter_pages()
        theming.publish(get_theme(theme_name), actor=actor)
        rebuild()  # the collection page lists and counts facets from the index, as in production
        return store.handle, handles, everything.handle


def _picture(n: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (800, 800), ((n * 37) % 256, (n * 91) % 256, (n * 53) % 256)).save(out, "JPEG", quality=70)
    return out.getvalue()


# -- the server -------------------------------------------------------------------------------------------------------

def start_server(app, workers: int, factory: str = "bench.storefront_bench:bench_app()",
                 log_name: str = "storefront-bench-gunicorn.log") -> tuple[subprocess.Popen, int]:
    """gunicorn serving the app `factory` builds, as `make run` serves the real one; (process, port)."""
    from app.cli import web_command
    from app.config import ROOT

    port = _free_port()
    command = web_command("127.0.0.1", port, workers, VAR, access_log=False)
    command[-1] = factory
    env = {**os.environ, "DATABASE_URL": app.config["DATABASES"]["main"], "DATABASES": "{}",
           "REDIS_URL": app.config["REDIS_URL"], "VAR_DIR": str(VAR), "SECRET_KEY": "bench",
           "VITRINE_ENV": "production", "PLATFORM_HOST": "localhost"}
    log = open(VAR / log_name, "w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while not _answers(port, "localhost", "/healthz"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.terminate()  # the arbiter takes its workers with it (a kill would leave them behind)
            process.wait(timeout=60)
            raise RuntimeError(f"gunicorn did not start; see {log.name}")
        time.sleep(0.1)  # polling for readiness, not standing in for it
    return process, port


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int, host: str, path: str) -> bool:
    try:
        return asyncio.run(one(port, host, path))[0] == 200
    except OSError:
        return False


def cycle(paths: list[str]):
    counter = iter(range(10**12))
    return lambda: paths[next(counter) % len(paths)]


def unique(paths: list[str]):
    """Each call a path never asked before: a cache miss every time."""
    counter = iter(range(10**12))

    def next_path() -> str:
        n = next(counter)
        return f"{paths[n % len(paths)]}?bench={uuid.uuid4().hex[:8]}{n}"
    return next_path


# -- the run ----------------------------------------------------------------------------------------------------------

def views(store_host: str, product_paths: list[str], collection: str) -> dict[str, tuple[str, list[str], bool]]:
    """name -> (host, paths, cached)."""
    return {
        "bare Flask page (5 KB template, no database)": ("localhost", [BARE_PATH], True),
        "product page, cached": (store_host, product_paths, True),
        "product page, uncached": (store_host, product_paths, False),
        "collection page, cached": (store_host, [f"/collections/{collection}"], True),
        "collection page, uncached": (store_host, [f"/collections/{collection}"], False),
        "home page, cached": (store_host, ["/"], True),
        "home page, uncached": (store_host, ["/"], False),
    }


def measure(port: int, host: str, paths: list[str], cached: bool, connections: int, seconds: float) -> dict:
    """Warm up (every cached address once, then 2 s of the same load), then measure."""
    if cached:
        for path in paths:
            assert asyncio.run(one(port, host, path))[0] == 200, (host, path)
    Load(port, host, cycle(paths) if cached else unique(paths), connections, 2.0).run()
    return Load(port, host, cycle(paths) if cached else unique(paths), connections, seconds).run()


def in_process(app, host: str, paths: list[str], cached: bool, runs: int = 50) -> dict:
    """The same view through the Flask test client, one request at a time: its
    own cost without queueing, and the SQL statements one request runs."""
    import sqlalchemy as sa

    from app.extensions import db
    from tests.conftest import Client

    client = Client(app.test_client(), host=host.split(":")[0])
    next_path = cycle(paths) if cached else unique(paths)
    for path in paths if cached else paths[:1]:
        client.get(path)
    statements = []
    with app.app_context():
        engines = {db.engine, *db.engines.values()}
    count = lambda *args: statements.append(1)  # noqa: E731
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", count)
    samples = []
    try:
        for _ in range(runs):
            start = time.perf_counter()
            assert client.get(next_path()).status_code == 200
            samples.append((time.perf_counter() - start) * 1000)
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", count)
    return {"median_ms": round(statistics.median(samples), 2), "sql_per_request": round(len(statements) / runs, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--theme", default="atelier")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    app = add_bare_page(_app())  # the same page in process, for its own cost
    load_before = os.getloadavg()
    started = time.perf_counter()
    handle, product_handles, collection = make_store(app, args.theme)
    print(f"store {handle}: {PRODUCTS} products, theme {args.theme} ({time.perf_counter() - started:.1f} s)")
    process, port = start_server(app, args.workers)
    store_host = f"{handle}.localhost:{port}"
    product_paths = [f"/products/{h}" for h in product_handles]
    results = {}
    try:
        for name, (host, paths, cached) in views(store_host, product_paths, collection).items():
            results[name] = figures = measure(port, host, paths, cached, args.connections, args.seconds)
            figures["in_process"] = in_process(app, host, paths, cached)
            print(f"{name:<46} {figures['requests_per_s']:>8.1f} req/s  p50 {figures['p50_ms']:>7.1f} ms"
                  f"  p99 {figures['p99_ms']:>7.1f} ms  errors {figures['errors']}  {figures.get('in_process', '')}")
    finally:
        process.terminate()
        process.wait(timeout=30)
    bare = results["bare Flask page (5 KB template, no database)"]["requests_per_s"]
    for figures in results.values():
        figures["ratio_to_bare"] = round(figures["requests_per_s"] / bare, 3) if bare else None
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)]},
        "setup": {"theme": args.theme, "products": PRODUCTS, "collection_products": COLLECTION_SIZE,
                  "gunicorn": f"{args.workers} workers x 4 threads (app.cli.web_command)",
                  "load": f"{args.connections} keep-alive connections, {args.seconds:g} s per view after a 2 s warm-up,"
                          " asyncio in the same machine",
                  "uncached": "each request has a never-seen query string (?bench=<n>): the page ignores it, the "
                              "cache key includes it, so every answer is rendered (and written to the cache)"},
        "results": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "storefront.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "storefront.md").write_text(markdown(report))
    print(f"written to {RESULTS / 'storefront.json'} and storefront.md")
    stop_embedded()


def markdown(report: dict) -> str:
    setup = report["setup"]
    lines = [f"# Storefront throughput ({report['when']})", "",
             f"{report['machine']['cpus']} CPUs (1-minute load average before/after: "
             f"{report['machine']['load_average_before_after']}), Python {report['machine']['python']}; "
             f"theme {setup['theme']}, "
             f"{setup['products']} products; gunicorn {setup['gunicorn']}; {setup['load']}.", "",
             f"Uncached: {setup['uncached']}.", "",
             "In process: the Flask test client, one request at a time (no queueing), median of 50, and the SQL "
             "statements one request runs.", "",
             "| view | requests/s | p50 ms | p99 ms | vs bare | body | errors | in process | SQL |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, f in report["results"].items():
        alone = f.get("in_process") or {}
        lines.append(f"| {name} | {f['requests_per_s']:.0f} | {f['p50_ms']:.1f} | {f['p99_ms']:.1f} | "
                     f"{f['ratio_to_bare']:.2f} | {f['body_bytes'] / 1024:.1f} KB | {f['errors']} | "
                     f"{alone.get('median_ms', '–')} ms | {alone.get('sql_per_request', '–')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
