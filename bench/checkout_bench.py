"""Checkout under load: POST /api/v1/checkout by concurrent shoppers, each
with a cart of its own, paying by card against the Stripe emulator.

    .venv/bin/python -m bench.checkout_bench [--seconds 20] [--shoppers 16]

Makes a store in bench.run's own database (as bench.cart_bench does) with
products stocked far beyond the run, a shipping rate and a tax rate; starts
a fresh Stripe emulator (its own process, no latency added) and the app
under gunicorn as `make run` serves it (2 workers x 4 threads). Each
shopper loops: add a product to a new cart (POST /api/v1/cart/items), then
check out with a new Idempotency-Key and `pm_card_visa`; every checkout must
answer 201. Checkout latency is reported twice: as the shopper sees it, and
without the PSP, i.e. minus the time the server spent waiting for the
emulator (its Server-Timing `psp` header), which is what this code
controls. Orders/s is confirmed orders over the run.

Writes bench/results/checkout.json and checkout.md.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import time
import uuid
from datetime import UTC, datetime

from bench.load import exchange
from bench.run import RESULTS, VAR, _app, stop_embedded
from bench.storefront_bench import start_server

ADDRESS = {"name": "Bench Shopper", "line1": "1 Market St", "city": "San Francisco", "region": "CA",
           "postal_code": "94105", "country": "US"}
AIMS = {"p95_ms_without_psp": 200, "orders_per_s": 100}


def start_emulator() -> tuple[object, str]:
    from app.payments.emulator.process import start

    VAR.mkdir(parents=True, exist_ok=True)
    return start(VAR / "checkout-bench-emulator.log")


def make_store(app) -> tuple[object, list[int], str]:
    from werkzeug.datastructures import MultiDict

    import sqlalchemy as sa

    from app.catalog import products as catalog
    from app.catalog.models import Variant
    from app.checkout import shipping, taxes
    from app.extensions import db
    from app.inventory import service as inventory
    from tenants.context import store_context
    from tenants.provisioning import create_store, placement_of

    actor = "bench@example.com"
    with app.app_context():
        store = placement_of(create_store(handle=f"pay{uuid.uuid4().hex[:8]}", name="Bench Checkout", currency="USD"))
        db.session.remove()
    with app.app_context(), store_context(store):
        location = (inventory.default_location() or inventory.create_location("Main")).id
        variants = []
        for n in range(20):
            product = catalog.create_product({"title": f"Bench item {n}", "price": f"{20 + n}.00",
                                              "status": "active"}, actor=actor)
            variant_id = db.session.scalar(sa.select(Variant.id).where(Variant.product_id == product.id))
            inventory.set_on_hand(variant_id, location, 1_000_000, reason="received", actor=actor)
            variants.append(variant_id)
        zone = shipping.create_zone(MultiDict({"name": "US", "places": "US"}), actor=actor)
        rate = shipping.create_rate(zone.id, MultiDict({"name": "Parcel", "kind": "flat", "price": "5.00"}),
                                    actor=actor)
        taxes.create_rate(MultiDict({"place": "US-CA", "name": "CA sales tax", "rate": "7.25"}), actor=actor)
        rate_id = str(rate.id)
        db.session.remove()
    return store, variants, rate_id


class Shoppers:
    def __init__(self, port: int, host: str, variants: list[int], rate: str, shoppers: int, seconds: float):
        self.port, self.host, self.variants, self.rate = port, host, variants, rate
        self.shoppers, self.seconds = shoppers, seconds
        self.latencies: list[float] = []
        self.psp: list[float] = []
        self.statuses: dict[int, int] = {}

    async def _shopper(self, n: int, deadline: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        round_ = 0
        try:
            while time.perf_counter() < deadline:
                variant = self.variants[(n + round_) % len(self.variants)]
                round_ += 1
                body = json.dumps({"variant_id": variant, "quantity": 1}).encode()
                status, headers, _ = await exchange(reader, writer, self.host, "/api/v1/cart/items", body)
                if status != 201:
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    continue
                order = json.dumps({"email": f"shopper{n}@example.com", "shipping_address": ADDRESS,
                                    "shipping_method": self.rate,
                                    "payment_method": {"type": "card", "id": "pm_card_visa"}}).encode()
                started = time.perf_counter()
                status, answered, _ = await exchange(
                    reader, writer, self.host, "/api/v1/checkout", order,
                    {"X-Cart-Token": headers["x-cart-token"], "Idempotency-Key": str(uuid.uuid4())})
                if time.perf_counter() > deadline:
                    break  # answered after the window closed: not part of the sustained rate
                self.latencies.append((time.perf_counter() - started) * 1000)
                self.psp.append(float(answered.get("server-timing", "psp;dur=0").split("dur=")[1]))
                self.statuses[status] = self.statuses.get(status, 0) + 1
        finally:
            writer.close()

    def run(self) -> dict:
        async def everyone() -> float:
            start = time.perf_counter()
            await asyncio.gather(*(self._shopper(n, start + self.seconds) for n in range(self.shoppers)))
            return time.perf_counter() - start

        elapsed = asyncio.run(everyone())
        seen = sorted(self.latencies)
        without = sorted(total - psp for total, psp in zip(self.latencies, self.psp))
        confirmed = self.statuses.get(201, 0)
        return {"checkouts": len(seen), "answers": {str(k): v for k, v in sorted(self.statuses.items())},
                "seconds": round(elapsed, 2), "orders_per_s": round(confirmed / elapsed, 1),
                "latency_ms": _percentiles(seen), "latency_without_psp_ms": _percentiles(without),
                "psp_ms_median": round(statistics.median(self.psp), 2) if self.psp else None}


def _percentiles(ordered: list[float]) -> dict:
    if not ordered:
        return {}
    pick = lambda q: round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 1)  # noqa: E731
    return {"p50": pick(0.50), "p95": pick(0.95), "p99": pick(0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--shoppers", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    emulator, emulator_url = start_emulator()
    os.environ["STRIPE_EMULATOR_URL"] = emulator_url  # the app here and the gunicorn it starts
    os.environ.pop("STRIPE_SECRET_KEY", None)
    load_before = os.getloadavg()
    try:
        app = _app()
        store, variants, rate = make_store(app)
        process, port = start_server(app, args.workers, "bench.checkout_bench:bench_app()",
                                     "checkout-bench-gunicorn.log")
        try:
            host = f"{store.handle}.localhost:{port}"
            Shoppers(port, host, variants, rate, args.shoppers, 2.0).run()  # warm-up
            figures = Shoppers(port, host, variants, rate, args.shoppers, args.seconds).run()
        finally:
            process.terminate()
            process.wait(timeout=60)
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)]},
        "setup": {"shoppers": args.shoppers, "seconds": args.seconds,
                  "gunicorn": f"{args.workers} workers x 4 threads", "psp": "the Stripe emulator, no added latency"},
        "results": figures,
        "aims": {"p95_ms_without_psp": {"aim": f"<= {AIMS['p95_ms_without_psp']}",
                                        "got": figures["latency_without_psp_ms"].get("p95")},
                 "orders_per_s": {"aim": f">= {AIMS['orders_per_s']}", "got": figures["orders_per_s"]}},
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "checkout.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "checkout.md").write_text(markdown(report))
    print(json.dumps(figures, indent=2))
    stop_embedded()


def bench_app():
    """gunicorn's `bench.checkout_bench:bench_app()`: the app as `make run` serves it."""
    from app import create_app

    return create_app()


def markdown(report: dict) -> str:
    r = report["results"]
    rows = [f"| as the shopper sees it | {r['latency_ms'].get('p50')} | {r['latency_ms'].get('p95')} | "
            f"{r['latency_ms'].get('p99')} |",
            f"| without the PSP | {r['latency_without_psp_ms'].get('p50')} | "
            f"{r['latency_without_psp_ms'].get('p95')} | {r['latency_without_psp_ms'].get('p99')} |"]
    return "\n".join([
        f"# Checkout under load ({report['when']})", "",
        f"{report['machine']['cpus']} CPUs (1-minute load average before/after: "
        f"{report['machine']['load_average_before_after']}), Python {report['machine']['python']}; "
        f"{report['setup']['gunicorn']}; {report['setup']['shoppers']} concurrent shoppers for "
        f"{report['setup']['seconds']:g} s, each adding one item to a new cart and checking out by card "
        f"(`pm_card_visa`) against {report['setup']['psp']}, on the same machine.", "",
        f"Confirmed orders: {r['answers'].get('201', 0)} of {r['checkouts']} checkouts ({r['answers']}); "
        f"**{r['orders_per_s']} orders/s**; the PSP's median share of a checkout {r['psp_ms_median']} ms.", "",
        "| checkout latency (ms) | p50 | p95 | p99 |", "| --- | ---: | ---: | ---: |", *rows, "",
        f"Aims: p95 without the PSP {report['aims']['p95_ms_without_psp']['aim']} ms "
        f"(got {report['aims']['p95_ms_without_psp']['got']}); orders/s {report['aims']['orders_per_s']['aim']} "
        f"(got {report['aims']['orders_per_s']['got']}).", ""])


if __name__ == "__main__":
    main()
