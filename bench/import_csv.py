"""CSV import benchmark: a 10,000-row Shopify file into a fresh store.

    .venv/bin/python -m bench.import_csv

2,500 products x 4 variants (two options), stock on every variant, no
images; then the same file again, which updates every product. Uses bench.run's environment (its own `vitrine_bench` database on
DATABASE_URL or the embedded PostgreSQL under var/bench/, REDIS_URL or an
embedded Redis), runs the import job in this process and writes
bench/results/import_csv.json. The aim: under 60 s on 2 cores.
"""
from __future__ import annotations

import csv
import io
import json
import os
import platform
import time
import uuid
from datetime import UTC, datetime

from app.catalog.csv_format import COLUMNS
from bench.run import RESULTS, _app, stop_embedded

PRODUCTS, SIZES, COLORS = 2500, ("S", "M"), ("Ink", "Sand")
AIM_SECONDS = 60.0


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


def run_steps(run_import, store_id: int, job_id: int) -> str:
    """Every step of an import, in-process (the queued copies are left to no
    worker): a step yields after IMPORT_STEP_SECONDS, as it does for a worker."""
    status = "queued"
    while status == "queued":
        status = run_import(store_id, job_id)
    return status


def main() -> None:
    from app.catalog import imports
    from app.catalog.jobs import run_import
    from app.catalog.models import Product, Variant
    from app.extensions import db
    from tenants.context import store_context
    from tenants.provisioning import create_store, placement_of

    app = _app()
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
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "import_csv.json").write_text(json.dumps(report, indent=2) + "\n")
    verdict = "" if seconds <= AIM_SECONDS else "  MISSED"
    print(f"imported {rows} rows ({PRODUCTS} products) in {seconds:.1f} s: {rows / seconds:.0f} rows/s "
          f"(aim {AIM_SECONDS:.0f} s){verdict}; the same file again (updates) in {seconds_again:.1f} s")
    print(f"written to {RESULTS / 'import_csv.json'}")
    stop_embedded()


if __name__ == "__main__":
    main()
