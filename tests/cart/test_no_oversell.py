"""The promise: with 100 units in stock and 1,000 shoppers adding to cart at
once, exactly 100 get one and every other one is told 409, over real HTTP
against a server with several workers. Twenty times over, with and without
the flash-sale gate; with the gate's counter flushed half-way; and with the
reservation sweeper running through the storm."""
from __future__ import annotations

import asyncio
import json
import re
import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from app.catalog.models import Variant
from app.extensions import db, get_redis
from app.inventory import gate, reservations
from app.inventory.gate import PREFIX as GATE_PREFIX
from tests.cart.helpers import tenant_sql, held, levels, make_shop
from tests.conftest import as_store, gunicorn, in_thread

ATTEMPTS = 1_000
UNITS = 100
ROUNDS = 20
CLIENTS = 48
WORKERS = 3


@pytest.fixture(scope="module")
def server(service_env, tmp_path_factory):
    """gunicorn with several worker processes (each with threads), like production."""
    with gunicorn(service_env, WORKERS, tmp_path_factory.mktemp("storm") / "gunicorn.log") as port:
        yield f"http://localhost:{port}"


def storm(base: str, host: str, variant_id: int, *, midway=None) -> Counter:
    """ATTEMPTS adds of one unit, each by a new shopper (no cart yet), over CLIENTS keep-alive
    connections at once. `midway` runs once half of the answers are in. (Raw HTTP/1.1 from asyncio:
    a thread pool of `requests` sessions cost the machine more than the server it was testing.)"""
    port = int(base.rsplit(":", 1)[1])
    body = json.dumps({"variant_id": variant_id, "quantity": 1}).encode()
    request = (f"POST /api/v1/cart/items HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    answers: Counter = Counter()
    left = iter(range(ATTEMPTS))

    async def client():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in left:
                writer.write(request)
                head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                length = re.search(r"(?im)^content-length:\s*(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                answers[int(head.split()[1])] += 1
                if midway and sum(answers.values()) == ATTEMPTS // 2:
                    midway()
        finally:
            writer.close()

    async def everyone():
        await asyncio.wait_for(asyncio.gather(*(client() for _ in range(CLIENTS))), timeout=300)

    # In a thread of its own: a process that ran a browser test first has Playwright's loop running in this one.
    in_thread(lambda: asyncio.run(everyone()))
    return answers


def flash_sale(app, shop, variant_id: int, on: bool = True) -> None:
    with as_store(app, shop.store):
        db.session.execute(sa.update(Variant).where(Variant.id == variant_id).values(flash_sale=on))
        db.session.commit()


def hold_off_the_gate(app, shop, variant_id: int) -> None:
    """Without the flash-sale mark, 20 refusals in a minute would put the gate in front of the variant
    anyway (app.inventory.gate.conflict): start the minute's count so low that it cannot get there,
    so the storm really meets the conditional UPDATE alone. ungated() checks it did."""
    with app.app_context():
        get_redis().set(gate._key(shop.store.id, variant_id, "conflicts"), -10**9, ex=60)


def ungated(app, shop, variant_id: int) -> bool:
    with app.app_context():
        return not get_redis().exists(gate._key(shop.store.id, variant_id, "hot"))


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
        if not gated:
            hold_off_the_gate(app, shop, variant_id)
        answers = storm(server, shop.host, variant_id)
        assert answers == Counter({201: UNITS, 409: ATTEMPTS - UNITS}), f"round {round_number}: {answers}"
        assert gated or ungated(app, shop, variant_id)
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
    if not gated:
        hold_off_the_gate(app, shop, variant_id)
    sweeper.start()
    try:
        answers = storm(server, shop.host, variant_id)
    finally:
        stop.set()
        sweeper.join()
    assert answers == Counter({201: UNITS, 409: ATTEMPTS - UNITS}), answers
    assert gated or ungated(app, shop, variant_id)
    assert_exactly_sold_out(app, shop, variant_id)
    with as_store(app, shop.store):
        live = tenant_sql(sa.text("SELECT coalesce(sum(quantity), 0) FROM reservations WHERE variant_id = :v "
                                  "AND expires_at > now()"), {"v": variant_id}).scalar()
    assert live == UNITS
