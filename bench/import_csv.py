"""CSV import benchmark: a 10,000-row Shopify file into a fresh store.

    .venv/bin/python -m bench.import_csv

2,500 products x 4 variants (two options), stock on every variant, no
images; then the same file again, which updates every product. Uses bench.run's environment (its own `vitrine_bench` database on
DATABASE_URL or the embedded PostgreSQL under var/bench/, REDIS_URL or an
embedded Redis), runs the import job in this process and writes
bench/results/import_csv.json. The aim: under 60 s on 2 cores.

Then a merchant's 248-row file (62 products x 4 variants, an Image Src on
every row) three times: image columns blank; every image on a host that
refuses connections; every image on a local host that takes IMAGE_DELAY
seconds to answer each request; every image on a host that takes the
connection and never answers (each fetch waits out its 10 s timeout). For each: seconds until every product has
landed (committed, counted on the job) and seconds until the job is done.
The aim: products land in about the time of the blank file, and a failing
host costs seconds, not tens of seconds.
"""
from __future__ import annotations

import csv
import io
import json
import os
import platform
import socket
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app.catalog.csv_format import COLUMNS
from bench.run import RESULTS, _app, stop_embedded

PRODUCTS, SIZES, COLORS = 2500, ("S", "M"), ("Ink", "Sand")
AIM_SECONDS = 60.0
IMAGE_PRODUCTS, IMAGE_DELAY = 62, 0.5  # 248 rows; seconds the slow host takes per image


def generate(products: int = PRODUCTS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS)
    writer.writeheader()
    for n in range(products):
        for k, (size, color) in enumerate((s, c) for s in SIZES for c in COLORS):
            row = {"Handle": f"bench-product-{n}", "Option1 Value": size, "Option2 Value": color,
                   "Variant SKU": f"B{n}-{size}-{color}", "Variant Grams": "250",
                   "Variant Inventory Tracker": "shopify",
                   "Variant Inventory Qty": str((n + k) % 40), "Variant Inventory Policy": "deny",
                   "Variant Fulfillment Service": "manual", "Variant Price": f"{10 + n % 90}.{k}9",
                   "Variant Compare At Price": "", "Variant Requires Shipping": "TRUE", "Variant Taxable": "TRUE",
                   "Variant Barcode": f"{n:08d}{k}", "Variant Weight Unit": "g"}
            if k == 0:
                row.update({"Title": f"Bench Product {n}", "Body (HTML)": f"<p>Product <b>{n}</b>, made well.</p>",
                            "Vendor": f"Vendor {n % 25}", "Type": "Shirts", "Tags": f"bench, batch-{n % 10}",
                            "Published": "TRUE", "Option1 Name": "Size", "Option2 Name": "Color", "Gift Card": "FALSE",
                            "SEO Title": f"Bench Product {n}", "Status": "active"})
            writer.writerow(row)
    return out.getvalue().encode()


def generate_with_images(image_url) -> bytes:
    """IMAGE_PRODUCTS products of four variants, an image on every row;
    `image_url(n)` gives the nth image's URL ("" for none)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS)
    writer.writeheader()
    for n in range(IMAGE_PRODUCTS):
        for k, (size, color) in enumerate((s, c) for s in SIZES for c in COLORS):
            row = {"Handle": f"photo-product-{n}", "Option1 Value": size, "Option2 Value": color,
                   "Variant SKU": f"P{n}-{size}-{color}", "Variant Price": f"{10 + n}.{k}9",
                   "Variant Inventory Qty": "5", "Image Src": image_url(4 * n + k), "Image Position": str(k + 1)}
            if k == 0:
                row.update({"Title": f"Photo Product {n}", "Option1 Name": "Size", "Option2 Name": "Color",
                            "Status": "active"})
            writer.writerow(row)
    return out.getvalue().encode()


class SlowImageHost:
    """A local image host that takes `delay` seconds over every answer."""

    def __init__(self, delay: float):
        from PIL import Image

        picture = io.BytesIO()
        Image.new("RGB", (64, 48), "teal").save(picture, "PNG")
        body, stop = picture.getvalue(), threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                stop.wait(delay)  # the host's pace
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.stop = stop
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


class SilentHost:
    """A local port that takes connections and never answers: a host that times out."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(512)  # the kernel completes the handshakes; nothing is ever read or sent
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()


def refusing_port() -> int:
    """A local port nothing listens on: connections to it are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed_import(app, store, data: bytes, products: int) -> dict:
    """Run an import's steps in a thread; note when every product has landed and when the job is done."""
    from app.catalog import imports
    from app.catalog.jobs import run_import
    from app.catalog.models import ImportJob
    from app.extensions import db
    from tenants.context import store_context

    with store_context(store):
        job_id = imports.start_import("photos.csv", data, "bench@example.com").id
    result = {}

    def steps():
        with app.app_context():
            result["status"] = run_steps(run_import, store.id, job_id)
            db.session.remove()

    start = time.perf_counter()
    worker = threading.Thread(target=steps)
    worker.start()
    landed = None
    while worker.is_alive():
        with store_context(store):
            job = db.session.get(ImportJob, (store.id, job_id))
            if landed is None and job.created_products + job.updated_products + job.failed_products >= products:
                landed = time.perf_counter() - start
            db.session.rollback()
        worker.join(0.05)  # the bench's sampling interval
    total = time.perf_counter() - start
    with store_context(store):
        job = db.session.get(ImportJob, (store.id, job_id))
        counts = (job.status, job.created_products, job.failed_products)
    assert counts == ("done", products, 0), counts
    return {"products_landed_seconds": round(landed if landed is not None else total, 2),
            "total_seconds": round(total, 2)}


def bench_images(app) -> dict:
    """The 248-row file: blank image columns, a refusing host, a slow host."""
    from tenants.provisioning import create_store, placement_of

    app.config["IMPORT_ALLOW_PRIVATE_URLS"] = True  # the bench's image hosts are on 127.0.0.1
    slow, refused, silent = SlowImageHost(IMAGE_DELAY), refusing_port(), SilentHost()
    cases = {"blank": lambda n: "", "refusing_host": lambda n: f"http://127.0.0.1:{refused}/p/{n}.png",
             "slow_host": lambda n: f"{slow.url}/p/{n}.png", "silent_host": lambda n: f"{silent.url}/p/{n}.png"}
    results = {"rows": IMAGE_PRODUCTS * 4, "products": IMAGE_PRODUCTS, "slow_host_delay_seconds": IMAGE_DELAY}
    try:
        with app.app_context():
            for name, url in cases.items():
                store = placement_of(create_store(handle=f"img{uuid.uuid4().hex[:10]}", name="Image bench",
                                                  currency="USD"))
                results[name] = timed_import(app, store, generate_with_images(url), IMAGE_PRODUCTS)
                print(f"{name}: products landed in {results[name]['products_landed_seconds']} s, "
                      f"done in {results[name]['total_seconds']} s")
    finally:
        slow.close()
        silent.close()
    return results


def run_steps(run_import, store_id: int, job_id: int) -> str:
    """Every step of an import, in-process (the queued copies are left to no
    worker): a step yields after IMPORT_STEP_SECONDS, as it does for a worker."""
    status = "queued"
    while status == "queued":
        status = run_import(store_id, job_id)
    return status


def main(only_images: bool = False) -> None:
    from app.catalog import imports
    from app.catalog.jobs import run_import
    from app.catalog.models import Product, Variant
    from app.extensions import db
    from tenants.context import store_context
    from tenants.provisioning import create_store, placement_of

    app = _app()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "import_csv.json"
    if only_images:
        report = json.loads(path.read_text()) if path.is_file() else {}
        report["images_248_rows"] = bench_images(app)
        path.write_text(json.dumps(report, indent=2) + "\n")
        stop_embedded()
        return
    data = generate()
    rows = data.count(b"\n") - 1
    with app.app_context():
        store = placement_of(create_store(handle=f"csv{uuid.uuid4().hex[:10]}", name="Import bench", currency="USD"))
        with store_context(store):
            job = imports.start_import("bench.csv", data, "bench@example.com")
            job_id = job.id
        start = time.perf_counter()
        status = run_steps(run_import, store.id, job_id)
        seconds = time.perf_counter() - start
        with store_context(store):
            again = imports.start_import("bench.csv", data, "bench@example.com").id
        start = time.perf_counter()
        status_again = run_steps(run_import, store.id, again)  # the same file again: every product is updated
        seconds_again = time.perf_counter() - start
        with store_context(store):
            counts = {"products": db.session.scalar(db.select(db.func.count()).select_from(Product)),
                      "variants": db.session.scalar(db.select(db.func.count()).select_from(Variant))}
        db.session.remove()
    assert status == status_again == "done" and counts == {"products": PRODUCTS, "variants": rows}, (status, counts)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "database": "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded pgserver",
        "rows": rows, "products": PRODUCTS, "variants": counts["variants"], "images": 0,
        "seconds": round(seconds, 2), "rows_per_second": round(rows / seconds, 1), "aim_seconds": AIM_SECONDS,
        "reimport_seconds": round(seconds_again, 2), "reimport_rows_per_second": round(rows / seconds_again, 1),
    }
    with app.app_context():
        report["images_248_rows"] = bench_images(app)
    path.write_text(json.dumps(report, indent=2) + "\n")
    verdict = "" if seconds <= AIM_SECONDS else "  MISSED"
    print(f"imported {rows} rows ({PRODUCTS} products) in {seconds:.1f} s: {rows / seconds:.0f} rows/s "
          f"(aim {AIM_SECONDS:.0f} s){verdict}; the same file again (updates) in {seconds_again:.1f} s")
    print(f"written to {RESULTS / 'import_csv.json'}")
    stop_embedded()


if __name__ == "__main__":
    import sys

    main(only_images="images" in sys.argv[1:])  # `images`: only the 248-row image runs
