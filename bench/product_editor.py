"""The product editor with a product at the variant cap (2,048 variants).

    .venv/bin/python -m bench.product_editor

Creates the product through the catalog service (three options: 16 sizes x
16 colors x 8 materials), stocks every variant at two locations, then times
through the whole Flask stack (routing, auth, RLS, templates):
the editor's first page, its last page, the htmx partial a pager link asks
for, and saving a variant row on the last page (htmx). Records the size of
each answer. Writes bench/results/product_editor.json.
"""
from __future__ import annotations

import json
import os
import platform
import re
import statistics
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from bench.run import RESULTS, _app, stop_embedded
from tests.conftest import Client

SIZES, COLORS, MATERIALS = 16, 16, 8  # 2,048 variants
RUNS = 20
PASSWORD = "benchmark-password-1"


def _make_product(app, placement, email: str) -> tuple[int, list[int], float]:
    from app.catalog import products as catalog
    from app.catalog.products import OptionSpec
    from app.extensions import db
    from tenants.context import store_context
    from tenants.session import tenant_engine

    options = [OptionSpec("Size", [f"S{n}" for n in range(SIZES)]),
               OptionSpec("Color", [f"Color {n}" for n in range(COLORS)]),
               OptionSpec("Material", [f"Material {n}" for n in range(MATERIALS)])]
    with app.app_context(), store_context(placement):
        start = time.perf_counter()
        product = catalog.create_product({"title": "Everything Tee", "price": "25.00", "sku": "TEE"},
                                         options=options, actor=email)
        seconds = time.perf_counter() - start
        product_id = product.id
        variant_ids = [v.id for v in product.variants]
        tenant = db.session.connection(bind_arguments={"bind": tenant_engine(db)})
        tenant.execute(sa.text("INSERT INTO locations (store_id, name) VALUES (:s, 'Warehouse'), (:s, 'Shop')"),
                       {"s": placement.id})
        tenant.execute(sa.text("""
            INSERT INTO inventory_levels (store_id, variant_id, location_id, on_hand)
            SELECT :s, v.id, l.id, (v.id * 7 + l.id) % 13 FROM variants v CROSS JOIN locations l"""),
                       {"s": placement.id})
        db.session.commit()
        db.session.remove()
    return product_id, variant_ids, seconds


def _measure(call) -> dict:
    for _ in range(3):  # warm caches and plans
        call().close()
    samples, size, status = [], 0, 0
    for _ in range(RUNS):
        t0 = time.perf_counter()
        response = call()
        body = response.get_data()
        samples.append((time.perf_counter() - t0) * 1000)
        size, status = len(body), response.status_code
        response.close()
    samples.sort()
    return {"status": status, "bytes": size, "median_ms": round(statistics.median(samples), 1),
            "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1)}


def main() -> None:
    app = _app()
    from app.extensions import db
    from app.platform.accounts import create_account
    from tenants.provisioning import create_store, placement_of

    with app.app_context():
        account = create_account(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", name="Bench", password=PASSWORD)
        store = create_store(handle=f"ed{uuid.uuid4().hex[:8]}", name="Editor bench", currency="USD",
                             owner=account)
        placement, email = placement_of(store), account.email
        db.session.remove()
    product_id, variant_ids, create_seconds = _make_product(app, placement, email)

    client = Client(app.test_client())
    client.login(email, PASSWORD)
    path = f"/dashboard/{placement.handle}/products/{product_id}"
    last_page = -(-len(variant_ids) // 50)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)
    last = variant_ids[-1]
    row = {"csrf_token": token, "price": "27.00", "sku": "", "barcode": "", "weight_grams": "200",
           "track_inventory": "on", "low_stock_threshold": "", "image_id": "", "amount_locale": "en_US"}
    htmx = {"HX-Request": "true"}
    results = {
        "editor, first page": _measure(lambda: client.get(path)),
        "editor, last page": _measure(lambda: client.get(f"{path}?page={last_page}")),
        "pager link (htmx partial)": _measure(lambda: client.get(
            f"{path}?page=2", headers={**htmx, "HX-Target": "variant-pages"})),
        "save a row on the last page (htmx)": _measure(lambda: client.flask.post(
            f"{path}/variants/{last}", data=row, headers={"Host": "localhost", **htmx})),
    }
    assert all(r["status"] == 200 for r in results.values()), results
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "database": "DATABASE_URL" if os.environ.get("DATABASE_URL") else "embedded pgserver",
        "variants": len(variant_ids), "locations": 2, "create_product_seconds": round(create_seconds, 2),
        "requests": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "product_editor.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"product editor with {len(variant_ids)} variants (created in {create_seconds:.2f} s):")
    for name, figures in results.items():
        print(f"  {name:<36} {figures['bytes'] / 1024:>8.0f} KiB   median {figures['median_ms']:>7.1f} ms"
              f"   p95 {figures['p95_ms']:>7.1f} ms")
    print(f"written to {RESULTS / 'product_editor.json'}")
    stop_embedded()


if __name__ == "__main__":
    main()
