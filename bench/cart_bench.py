"""Add to cart on one hot variant under gunicorn: the flash-sale gate, the
conditional UPDATE alone, and a naive SELECT ... FOR UPDATE baseline.

    .venv/bin/python -m bench.cart_bench [--seconds 8] [--connections 48] [--units 100000]

Makes a store in bench.run's own database (`vitrine_bench` on DATABASE_URL or
the embedded PostgreSQL under var/bench/, REDIS_URL or an embedded Redis)
with one product per way of holding stock, each of one variant with
`--units` units at one location, serves the app with the web command
`make run` uses (gunicorn, 2 workers of 4 threads, app.cli.web_command) and
loads it from this process: asyncio, `--connections` keep-alive HTTP/1.1
connections, each sending its next request when the last answer is read.
Every request is a new shopper (no cart token) adding 1 unit.

The ways, each measured while stock lasts (the units outlast the window)
and then sold out (on_hand counted down to what is reserved):
- gate: POST /api/v1/cart/items on a variant marked for a flash sale: a
  Redis counter admits at most the available units, then the conditional UPDATE.
- update: the same request on an unmarked variant: the conditional UPDATE
  alone. (The bench app turns off "hot by conflicts", which would otherwise
  put the gate in front of this variant after 20 refusals.)
- naive: a route that exists only in this benchmark's app factory
  (`bench_app()`): the same JSON request, a new guest cart with its line
  and token, but none of the API's checks (product for sale, launch pass,
  gate, the cart's change lock); its hold is SELECT ... FOR UPDATE on the
  level, then UPDATE, and a reservation row, in one transaction.
- bare: a page with no database (storefront_bench's), the ceiling Flask,
  gunicorn and the app's request hooks allow on this machine.

After every phase the levels are checked: reserved never above on_hand, and
reserved equal to the sum of the reservation rows ("oversells" counts the
failures; it must be 0). In process (the Flask test client, one request at
a time) it also measures what one add costs and the SQL statements it runs:
a success, a refusal without the gate, a refusal through the gate.

Writes bench/results/cart.json and cart.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import uuid
from datetime import UTC, datetime

from bench.run import RESULTS, _app, stop_embedded
from bench import storefront_bench
from bench.load import Load
from bench.storefront_bench import BARE_PATH, add_bare_page

NAIVE_PATH = "/_bench/naive-add"
API_PATH = "/api/v1/cart/items"
WAYS = ("gate", "update", "naive")


# -- the benchmark's own app: the product, a bare page and the naive add ----------------------------------------------

def bench_app():
    """gunicorn's `bench.cart_bench:bench_app()`."""
    from app import create_app

    return add_naive_add(add_bare_page(create_app()))


def add_naive_add(app):
    """POST NAIVE_PATH {"variant_id"}: what POST /api/v1/cart/items does for a
    new shopper (a guest cart with one line, the answer with its token), with
    the textbook hold instead of ours: lock the level, look, then write."""
    import sqlalchemy as sa
    from flask import g, jsonify, request

    from app.cart import storage, web
    from app.extensions import csrf, db
    from app.inventory import gate
    from tenants.context import require_store
    from tenants.session import _guard_write, tenant_engine

    gate.AUTO_HOT_CONFLICTS = 10**9  # "update" must stay ungated however many refusals it gives
    lock = sa.text("SELECT l.id, l.location_id, l.on_hand - l.reserved AS free FROM inventory_levels l "
                   "JOIN locations o ON o.store_id = l.store_id AND o.id = l.location_id "
                   "WHERE l.variant_id = :v AND o.active ORDER BY o.priority, o.id LIMIT 1 FOR UPDATE OF l")
    take = sa.text("UPDATE inventory_levels SET reserved = reserved + 1, updated_at = now() WHERE id = :id")
    row = sa.text("INSERT INTO reservations (store_id, holder, variant_id, location_id, quantity, expires_at, "
                  "created_at, updated_at) VALUES (:s, :h, :v, :l, 1, now() + interval '15 minutes', now(), now())")

    @csrf.exempt
    @app.post(NAIVE_PATH)
    def naive_add():
        variant_id = int(request.get_json()["variant_id"])
        owner = web.request_owner(create=True)
        bind = {"bind": tenant_engine(db)}
        _guard_write(db.session())  # what every tenant write transaction does first (its raw SQL would skip it)
        level = db.session.execute(lock, {"v": variant_id}, bind_arguments=bind).first()
        if level is None or level.free < 1:
            db.session.rollback()
            return web.keep_token(jsonify(error={"code": "shortage", "available": 0})), 409
        db.session.execute(take, {"id": level.id}, bind_arguments=bind)
        db.session.execute(row, {"s": require_store().id, "h": owner.holder, "v": variant_id,
                                 "l": level.location_id}, bind_arguments=bind)
        db.session.commit()
        storage.save_line(owner, storage.Line(variant_id, 1, 0, storage.now()))
        return web.keep_token(jsonify(cart={"token": web.current_token(), "currency": g.store.currency,
                                            "item_count": 1})), 201

    return app


# -- the store --------------------------------------------------------------------------------------------------------

def make_store(app, units: int) -> tuple[object, dict[str, int], int]:
    """A store with one product per way (and one for the in-process figures); (store, variant ids, location)."""
    import sqlalchemy as sa

    from app.catalog import products as catalog
    from app.catalog.models import Variant
    from app.extensions import db
    from app.inventory import service as inventory
    from tenants.context import store_context
    from tenants.provisioning import create_store, placement_of

    actor = "bench@example.com"
    with app.app_context():
        store = placement_of(create_store(handle=f"cart{uuid.uuid4().hex[:8]}", name="Bench Drops", currency="USD"))
        db.session.remove()
    variants = {}
    with app.app_context(), store_context(store):
        location = (inventory.default_location() or inventory.create_location("Main location")).id
        for name in (*WAYS, "in process"):
            product = catalog.create_product({"title": f"Drop {name}", "price": "120.00", "status": "active"},
                                             actor=actor)
            variant_id = db.session.scalar(sa.select(Variant.id).where(Variant.product_id == product.id))
            inventory.set_on_hand(variant_id, location, units, reason="received", actor=actor)
            variants[name] = variant_id
        db.session.execute(sa.update(Variant).where(Variant.id == variants["gate"]).values(flash_sale=True))
        db.session.commit()
    return store, variants, location


def sell_out(app, store, variant_id: int, location: int) -> None:
    """What is left is counted away: on_hand comes down to what is reserved."""
    from app.inventory import service as inventory
    from tenants.context import store_context

    with app.app_context(), store_context(store):
        reserved = inventory.levels([variant_id])[(variant_id, location)].reserved
        inventory.set_on_hand(variant_id, location, reserved, reason="correction", actor="bench@example.com")


def oversells(app, store, variant_id: int) -> dict:
    """The level and its rows: reserved above on_hand, or reserved other than the rows' sum, is a failure."""
    import sqlalchemy as sa

    from app.extensions import db
    from tenants.context import store_context
    from tenants.session import tenant_engine

    with app.app_context(), store_context(store):
        on_hand, reserved, rows = db.session.execute(sa.text(
            "SELECT sum(on_hand), sum(reserved), (SELECT coalesce(sum(quantity), 0) FROM reservations "
            "WHERE variant_id = :v) FROM inventory_levels WHERE variant_id = :v"), {"v": variant_id},
            bind_arguments={"bind": tenant_engine(db)}).one()
        db.session.commit()
    failures = int(reserved > on_hand) + int(reserved != rows)
    return {"on_hand": int(on_hand), "reserved": int(reserved), "rows": int(rows), "oversells": failures}


# -- the server -------------------------------------------------------------------------------------------------------

def start_server(app, workers: int):
    return storefront_bench.start_server(app, workers, "bench.cart_bench:bench_app()", "cart-bench-gunicorn.log")


# -- in process: one add at a time ------------------------------------------------------------------------------------

def in_process(app, host: str, variant_id: int, runs: int = 60, path: str = API_PATH) -> dict:
    """Median ms and SQL statements of one add (a new shopper each time) through the Flask test client."""
    import sqlalchemy as sa

    from app.extensions import db

    client = app.test_client(use_cookies=False)
    body = {"variant_id": variant_id, "quantity": 1}
    statements = []
    with app.app_context():
        engines = {db.engine, *db.engines.values()}
    count = lambda *args: statements.append(1)  # noqa: E731
    client.post(path, json=body, headers={"Host": host})  # warm-up
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", count)
    samples, statuses = [], set()
    try:
        for _ in range(runs):
            start = time.perf_counter()
            statuses.add(client.post(path, json=body, headers={"Host": host}).status_code)
            samples.append((time.perf_counter() - start) * 1000)
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", count)
    return {"median_ms": round(statistics.median(samples), 2), "sql_per_request": round(len(statements) / runs, 1),
            "statuses": sorted(statuses)}


def in_process_figures(app, store, variants: dict[str, int], location: int) -> dict:
    """A success, a refusal without the gate and one through it (the "in process" variant, then sold
    out), and the naive add's success and refusal."""
    import sqlalchemy as sa

    from app.catalog.models import Variant
    from app.extensions import db
    from app.inventory import gate
    from tenants.context import store_context

    gate.AUTO_HOT_CONFLICTS = 10**9
    host = f"{store.handle}.localhost"
    variant_id = variants["in process"]
    figures = {"success": in_process(app, host, variant_id),
               "naive, success": in_process(app, host, variant_id, path=NAIVE_PATH)}
    sell_out(app, store, variant_id, location)
    figures["refused, no gate"] = in_process(app, host, variant_id)
    figures["naive, refused"] = in_process(app, host, variant_id, path=NAIVE_PATH)
    with app.app_context(), store_context(store):
        db.session.execute(sa.update(Variant).where(Variant.id == variant_id).values(flash_sale=True))
        db.session.commit()
    gate._marks.clear()  # this process's list of marked variants, read again at once
    figures["refused, through the gate"] = in_process(app, host, variant_id)
    return figures


# -- the run ----------------------------------------------------------------------------------------------------------

def measure(port: int, host: str, path: str, body: bytes | None, expected: int, connections: int,
            seconds: float) -> dict:
    same = (lambda: path) if body is None else (lambda: (path, body))
    Load(port, host, same, connections, 1.0, expected).run()  # warm-up: connections, caches, the gate's counter
    return Load(port, host, same, connections, seconds, expected).run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=48)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ways", default=",".join(WAYS), help="which of gate,update,naive to measure")
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--out", default="cart", help="results file name, under bench/results/")
    parser.add_argument("--in-process", action="store_true", help="only the in-process figures")
    args = parser.parse_args()

    app = add_naive_add(add_bare_page(_app()))
    load_before = os.getloadavg()
    store, variants, location = make_store(app, args.units)
    alone = in_process_figures(app, store, variants, location)
    for name, figures in alone.items():
        print(f"in process, {name:<28} {figures}")
    if args.in_process:
        stop_embedded()
        return
    process, port = start_server(app, args.workers)
    host = f"{store.handle}.localhost:{port}"
    results = {}
    try:
        results["bare page"] = measure(port, "localhost", BARE_PATH, None, 200, args.connections, args.seconds)
        print(f"{'bare page':<28} {results['bare page']}")
        for way in args.ways.split(","):
            path = NAIVE_PATH if way == "naive" else API_PATH
            body = json.dumps({"variant_id": variants[way], "quantity": 1}).encode()
            for phase, expected in (("in stock", 201), ("sold out", 409)):
                if phase == "sold out":
                    sell_out(app, store, variants[way], location)
                figures = measure(port, host, path, body, expected, args.connections, args.seconds)
                figures.update(oversells(app, store, variants[way]))
                results[f"{way}, {phase}"] = figures
                print(f"{way + ', ' + phase:<28} {figures}")
    finally:
        process.terminate()
        process.wait(timeout=30)
    bare = results["bare page"]["requests_per_s"]
    for figures in results.values():
        figures["ratio_to_bare"] = round(figures["requests_per_s"] / bare, 3) if bare else None
    report = {
        "aims": aims(results),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)]},
        "setup": {"units": args.units,
                  "gunicorn": f"{args.workers} workers x 4 threads (app.cli.web_command)",
                  "load": f"{args.connections} keep-alive connections, {args.seconds:g} s per phase after a 1 s "
                          "warm-up, asyncio in the same machine; every request a new shopper adding 1 unit"},
        "in_process": alone,
        "results": results,
        "oversells": sum(figures.get("oversells", 0) for figures in results.values()),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{args.out}.md").write_text(markdown(report))
    print(f"oversells: {report['oversells']}; written to {RESULTS / args.out}.json and .md")
    stop_embedded()


def aims(results: dict) -> dict:
    """The issue's aims against this run (None where a way was not measured)."""
    def rate(name: str, status: str):
        return results.get(name, {}).get(f"{status}_per_s")

    gate_in, gate_out, naive_out = rate("gate, in stock", "201"), rate("gate, sold out", "409"), \
        rate("naive, sold out", "409")
    ratio = round(gate_out / naive_out, 2) if gate_out and naive_out else None
    return {"reservations_per_s_through_the_gate (aim >= 600)": gate_in,
            "reservations_per_s_conditional_update (aim >= 600)": rate("update, in stock", "201"),
            "sold_out_answers_per_s_through_the_gate (aim >= 1500)": gate_out,
            "gate_vs_naive_once_sold_out (aim >= 3)": ratio}


def markdown(report: dict) -> str:
    setup, machine = report["setup"], report["machine"]
    lines = [f"# Add to cart on one hot variant ({report['when']})", "",
             f"{machine['cpus']} CPUs (1-minute load average before/after: {machine['load_average_before_after']}),"
             f" Python {machine['python']}; gunicorn {setup['gunicorn']}; {setup['load']}; {setup['units']:,} "
             "units while stock lasts, then on_hand counted down to what is reserved.", "",
             "gate: POST /api/v1/cart/items through the flash-sale gate; update: the same without the gate "
             "(the conditional UPDATE alone); naive: SELECT ... FOR UPDATE on the level, then UPDATE and a "
             "reservation row, with a guest cart line and token but none of the API's checks. Oversells: "
             "reserved above on_hand, or reserved other than the rows' sum, checked after every phase.", "",
             "| way | phase | requests/s | answered as expected/s | p50 ms | p99 ms | vs bare | errors | oversells |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, f in report["results"].items():
        way, _, phase = name.partition(", ")
        good = next((v for k, v in f.items() if k.endswith("_per_s") and k != "requests_per_s"), f["requests_per_s"])
        lines.append(f"| {way} | {phase or '–'} | {f['requests_per_s']:.0f} | {good:.0f} | {f['p50_ms']:.1f} | "
                     f"{f['p99_ms']:.1f} | {f['ratio_to_bare']:.2f} | {f['errors']} | {f.get('oversells', '–')} |")
    lines += ["", "Aims: " + "; ".join(f"{name}: {value}" for name, value in report["aims"].items()) + "."]
    lines += ["", "In process (the Flask test client, one add at a time, median of 60, a new shopper each time):", "",
              "| add | ms | SQL statements |", "| --- | ---: | ---: |"]
    for name, f in report["in_process"].items():
        lines.append(f"| {name} | {f['median_ms']} | {f['sql_per_request']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
