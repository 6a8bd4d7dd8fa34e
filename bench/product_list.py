"""Dashboard product list latency with 10,000 products.

    .venv/bin/python -m bench.product_list

Fills a fresh store with 10,000 products (30,000 variants, stock at two
locations) using set-based SQL, then times GET /dashboard/<store>/products
through the whole Flask stack (routing, auth, RLS, template) for the common
list views. Writes bench/results/product_list.json.
"""
from __future__ import annotations

import json
import statistics
import time
import uuid

import sqlalchemy as sa

from bench.run import RESULTS, _app, stop_embedded
from tests.conftest import Client

PRODUCTS = 10_000
AIM_P95_MS = 150.0
VIEWS = {
    "default (last updated)": "",
    "search 'trail'": "?q=trail",
    "search by SKU": "?q=SKU-00042",
    "status=active": "?status=active",
    "vendor filter": "?vendor=Vendor%207",
    "tag filter": "?tag=tag-3",
    "out of stock": "?stock=out",
    "sort by title": "?sort=title",
    "page 120": "?page=120",
}


def _fill(app, placement) -> None:
    from app.extensions import db
    from tenants.context import store_context
    from tenants.session import tenant_engine

    with app.app_context(), store_context(placement):
        tenant = db.session.connection(bind_arguments={"bind": tenant_engine(db)})
        tenant.execute(sa.text("""
            INSERT INTO products (store_id, handle, title, vendor, product_type, tags, status, description_html)
            SELECT :s, 'product-' || n, (ARRAY['Trail', 'Summit', 'Canyon', 'Alpine', 'Harbor'])[1 + n % 5]
                   || ' item ' || n, 'Vendor ' || (n % 40), 'Type ' || (n % 25),
                   ARRAY['tag-' || (n % 30), 'tag-' || (n % 7)], (ARRAY['active', 'draft', 'archived'])[1 + n % 3],
                   '<p>Description ' || n || '</p>'
            FROM generate_series(1, :n) AS n"""), {"s": placement.id, "n": PRODUCTS})
        tenant.execute(sa.text("""
            INSERT INTO variants (store_id, product_id, position, option1, sku, price, track_inventory)
            SELECT :s, p.id, v, (ARRAY['S', 'M', 'L'])[v], 'SKU-' || lpad(p.id::text, 5, '0') || '-' || v,
                   1000 + (p.id % 90) * 100, true
            FROM products p CROSS JOIN generate_series(1, 3) AS v"""), {"s": placement.id})
        tenant.execute(sa.text("INSERT INTO locations (store_id, name) VALUES (:s, 'Warehouse'), (:s, 'Shop')"),
                           {"s": placement.id})
        tenant.execute(sa.text("""
            INSERT INTO inventory_levels (store_id, variant_id, location_id, on_hand)
            SELECT :s, v.id, l.id, (v.id * 7 + l.id) % 13 FROM variants v CROSS JOIN locations l"""),
                           {"s": placement.id})
    with app.app_context():
        from tenants.extension import state

        with state().owner_engine(placement.db_key).begin() as conn:  # fresh statistics, as autovacuum would
            for table in ("products", "variants", "inventory_levels", "locations"):
                conn.exec_driver_sql(f'ANALYZE "{placement.schema}".{table}')


def main() -> None:
    app = _app()
    from app.extensions import db
    from app.platform.accounts import create_account
    from tenants.provisioning import create_store, placement_of

    with app.app_context():
        account = create_account(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", name="Bench",
                                 password="benchmark-password-1")
        store = create_store(handle=f"list{uuid.uuid4().hex[:8]}", name="List bench", currency="USD",
                             owner=account, tier="dedicated")
        placement, email = placement_of(store), account.email
        db.session.remove()
    start = time.perf_counter()
    _fill(app, placement)
    fill_seconds = time.perf_counter() - start

    client = Client(app.test_client())
    client.login(email, "benchmark-password-1")
    base = f"/dashboard/{placement.handle}/products"
    results = {}
    for name, query in VIEWS.items():
        for _ in range(3):  # warm caches and plans
            client.get(base + query).close()
        samples = []
        for _ in range(40):
            t0 = time.perf_counter()
            response = client.get(base + query)
            samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, response.status_code
            response.close()
        samples.sort()
        results[name] = {"median_ms": round(statistics.median(samples), 1),
                         "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 1)}
    overall = sorted(v["p95_ms"] for v in results.values())[-1]
    report = {"products": PRODUCTS, "variants": PRODUCTS * 3, "fill_seconds": round(fill_seconds, 1),
              "aim_p95_ms": AIM_P95_MS, "worst_p95_ms": overall, "views": results}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "product_list.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"product list with {PRODUCTS} products (p95 aim {AIM_P95_MS} ms):")
    for name, figures in results.items():
        print(f"  {name:<26} median {figures['median_ms']:>7.1f} ms   p95 {figures['p95_ms']:>7.1f} ms")
    print(f"worst p95: {overall} ms — written to {RESULTS / 'product_list.json'}")
    stop_embedded()


if __name__ == "__main__":
    main()
