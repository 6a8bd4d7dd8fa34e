"""The promise: with 100 units in stock and 1,000 shoppers adding to cart at
once, exactly 100 get one and every other one is told 409, over real HTTP
against a server with several workers. Twenty times over, with and without
the flash-sale gate; with the gate's counter flushed half-way; and with the
reservation sweeper running through the storm."""
from __future__ import annotations

import os
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from app.catalog.models import Variant
from app.cli import web_command
from app.config import ROOT
from app.extensions import db, get_redis
from app.inventory import reservations
from app.inventory.gate import PREFIX as GATE_PREFIX
from tests.cart.helpers import tenant_sql, held, levels, make_shop
from tests.conftest import as_store

ATTEMPTS = 1_000
UNITS = 100
ROUNDS = 20
CLIENTS = 48
WORKERS = 3


@pytest.fixture(scope="module")
def server(app, service_env, tmp_path_factory):
    """gunicorn with several worker processes (each with threads), like production."""
    from tests.e2e.conftest import _free_port  # noqa: PLC0415 (one free-port helper)

    port = _free_port()
    log_path = tmp_path_factory.mktemp("storm") / "gunicorn.log"
    var = app.config["VAR_DIR"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(web_command("127.0.0.1", port, WORKERS, var, access_log=False), cwd=ROOT,
                                   env={**os.environ, **service_env}, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while True:  # readiness, not a fixed delay
        try:
            if requests.get(f"{base}/healthz", timeout=2).ok:
                break
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"gunicorn did not start; see {log_path}")
        time.sleep(0.1)
    yield base
    process.terminate()
    process.wait(timeout=30)


def storm(base: str, host: str, variant_id: int, *, midway=None) -> Counter:
    """ATTEMPTS adds of one unit, each by a new shopper (no cart yet), from CLIENTS threads at once.
    `midway` runs once half of the answers are in."""
    answered, lock = [0], threading.Lock()
    local = threading.local()

    def attempt(_):
        session = getattr(local, "session", None) or setattr(local, "session", requests.Session()) or local.session
        response = session.post(f"{base}/api/v1/cart/items", json={"variant_id": variant_id, "quantity": 1},
                                headers={"Host": host}, timeout=60)
        session.cookies.clear()  # every attempt is a different shopper
        with lock:
            answered[0] += 1
            if midway and answered[0] == ATTEMPTS // 2:
                midway()
        return response.status_code

    with ThreadPoolExecutor(CLIENTS) as pool:
        return Counter(pool.map(attempt, range(ATTEMPTS)))


def flash_sale(app, shop, variant_id: int, on: bool = True) -> None:
    with as_store(app, shop.store):
        db.session.execute(sa.update(Variant).where(Variant.id == variant_id).values(flash_sale=on))
        db.session.commit()


def settle(app, shop) -> int:
    """Every hold lapses and the sweeper gives the units back; how many it released."""
    with as_store(app, shop.store):
        tenant_sql(sa.text("UPDATE reservations SET expires_at = now() - interval '1 second'"))
        db.session.commit()
        return reservations.sweep_expired()


def assert_exactly_sold_out(app, shop, variant_id: int) -> None:
    on_hand, reserved = levels(app, shop, variant_id)
    assert (on_hand, reserved) == (UNITS, UNITS)
    assert held(app, shop, variant_id) == UNITS  # the rows and the level agree
    with as_store(app, shop.store):
        from app.inventory.service import available
        assert available([variant_id])[variant_id] == 0


@pytest.mark.parametrize("gated", [False, True], ids=["conditional-update", "through-the-gate"])
def test_a_thousand_shoppers_get_exactly_the_hundred_units(app, make_store, server, gated):
    shop = make_shop(app, make_store, {"Drop Sneaker": UNITS})
    variant_id = shop.variants["Drop Sneaker"]
    flash_sale(app, shop, variant_id, gated)
    for round_number in range(ROUNDS):
        answers = storm(server, shop.host, variant_id)
        assert answers == Counter({201: UNITS, 409: ATTEMPTS - UNITS}), f"round {round_number}: {answers}"
        assert_exactly_sold_out(app, shop, variant_id)
        assert settle(app, shop) == UNITS
        assert levels(app, shop, variant_id) == (UNITS, 0)


def test_the_gate_counter_flushed_half_way(app, make_store, server):
    shop = make_shop(app, make_store, {"Drop Sneaker": UNITS})
    variant_id = shop.variants["Drop Sneaker"]
    flash_sale(app, shop, variant_id)

    def flush():
        with app.app_context():
            connection = get_redis()
            for key in connection.scan_iter(f"{GATE_PREFIX}{shop.store.id}:*"):
                connection.delete(key)

    for round_number in range(3):
        answers = storm(server, shop.host, variant_id, midway=flush)
        assert answers == Counter({201: UNITS, 409: ATTEMPTS - UNITS}), f"round {round_number}: {answers}"
        assert_exactly_sold_out(app, shop, variant_id)
        settle(app, shop)


@pytest.mark.parametrize("gated", [False, True], ids=["conditional-update", "through-the-gate"])
def test_the_sweeper_running_through_the_storm(app, make_store, server, gated):
    """30 units sit in holds that have lapsed: the sweeper (in a loop) and the shoppers race to give
    them back; still exactly 100 are held at the end, all by live holds."""
    shop = make_shop(app, make_store, {"Drop Sneaker": UNITS})
    variant_id = shop.variants["Drop Sneaker"]
    flash_sale(app, shop, variant_id, gated)
    with as_store(app, shop.store):
        for n in range(30):
            reservations.hold(f"cart:g:lapsed-{n:04d}-xxxxxxxx", variant_id, 1)
        tenant_sql(sa.text("UPDATE reservations SET expires_at = now() - interval '1 second'"))
        db.session.commit()
    stop = threading.Event()

    def sweeping():
        with as_store(app, shop.store):
            while not stop.is_set():
                reservations.sweep_expired()

    sweeper = threading.Thread(target=sweeping)
    sweeper.start()
    try:
        answers = storm(server, shop.host, variant_id)
    finally:
        stop.set()
        sweeper.join()
    assert answers == Counter({201: UNITS, 409: ATTEMPTS - UNITS}), answers
    assert_exactly_sold_out(app, shop, variant_id)
    with as_store(app, shop.store):
        live = tenant_sql(sa.text("SELECT coalesce(sum(quantity), 0) FROM reservations WHERE variant_id = :v "
                                  "AND expires_at > now()"), {"v": variant_id}).scalar()
    assert live == UNITS
