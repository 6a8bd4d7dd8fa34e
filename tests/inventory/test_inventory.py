"""Stock levels, the adjustment history, the reserved floor and low-stock alerts."""
import email
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.catalog import products as catalog
from app.extensions import db
from app.inventory import service as inventory
from app.inventory.models import InventoryAdjustment, InventoryLevel, Location
from app.inventory.service import InventoryError
from app.store.limits import LIMIT_LOCK, count_for_insert
from tenants.session import tenant_engine
from tests.conftest import TEST_VAR, as_store, flask_cli


def _setup(app, store, threshold=None):
    with as_store(app, store):
        product = catalog.create_product({"title": "Beanie", "price": "15", "sku": "BEANIE",
                                          "low_stock_threshold": threshold}, actor="owner@example.com")
        variant_id = product.variants[0].id
    with as_store(app, store):
        main = inventory.create_location("Main warehouse").id
    with as_store(app, store):
        shop = inventory.create_location("Corner shop", "1 High Street").id
    return variant_id, main, shop


def test_adjustments_are_recorded_with_who_why_and_how_much(app, make_store):
    store = make_store()
    variant_id, main, shop = _setup(app, store)
    with as_store(app, store):
        inventory.adjust(variant_id, main, "+10", reason="received", note="PO 1042", actor="anna@example.com")
    with as_store(app, store):
        inventory.set_on_hand(variant_id, main, "7", reason="correction", actor="ben@example.com")
    with as_store(app, store):
        inventory.adjust(variant_id, shop, "4", reason="received", actor="anna@example.com")
    with as_store(app, store):
        assert inventory.available([variant_id]) == {variant_id: 11}
        rows = db.session.execute(sa.select(InventoryAdjustment.location_id, InventoryAdjustment.delta,
                                             InventoryAdjustment.on_hand_after, InventoryAdjustment.reason,
                                             InventoryAdjustment.note, InventoryAdjustment.actor)
                                  .order_by(InventoryAdjustment.id)).all()
    assert [tuple(r) for r in rows] == [(main, 10, 10, "received", "PO 1042", "anna@example.com"),
                                        (main, -3, 7, "correction", "", "ben@example.com"),
                                        (shop, 4, 4, "received", "", "anna@example.com")]


def test_on_hand_never_goes_below_what_is_reserved(app, make_store):
    store = make_store()
    variant_id, main, _ = _setup(app, store)
    with as_store(app, store):
        inventory.adjust(variant_id, main, 5, reason="received", actor="a@example.com")
    with as_store(app, store):
        db.session.execute(sa.update(InventoryLevel).values(reserved=3))
    for call in (lambda: inventory.adjust(variant_id, main, -3, reason="damaged", actor="a@example.com"),
                 lambda: inventory.set_on_hand(variant_id, main, 2, reason="correction", actor="a@example.com")):
        with pytest.raises(InventoryError, match="cannot go below 3"):
            with as_store(app, store):
                call()
    with as_store(app, store):
        assert db.session.scalar(sa.select(InventoryLevel.on_hand)) == 5
        assert db.session.scalar(sa.select(sa.func.count(InventoryAdjustment.id))) == 1
    with pytest.raises(sa.exc.IntegrityError, match="inventory_reserved_within_on_hand"):
        with as_store(app, store):  # and the database itself refuses it
            db.session.execute(sa.update(InventoryLevel).values(on_hand=2))


def _wait_until_blocked_by(pid: int, other) -> None:
    """Return once a backend waits for a lock held by backend `pid`, or once
    `other` (a future) is done without having had to wait."""
    deadline = time.monotonic() + 30
    with db.engine.connect() as conn:
        while not other.done():
            if conn.execute(sa.text("SELECT count(*) FROM pg_locks WHERE NOT granted "
                                    "AND :pid = ANY(pg_blocking_pids(pid))"), {"pid": pid}).scalar():
                return
            assert time.monotonic() < deadline, "the second adjustment neither waited nor finished"
            time.sleep(0.01)  # polling the lock table, not standing in for it


def test_overlapping_adjustments_both_count(app, make_store):
    store = make_store()
    variant_id, main, _ = _setup(app, store)
    with as_store(app, store):
        inventory.adjust(variant_id, main, 10, reason="received", actor="a@example.com")

    def second_adjustment():
        with as_store(app, store):
            inventory.adjust(variant_id, main, 3, reason="received", actor="b@example.com")

    with ThreadPoolExecutor(1) as pool:
        with as_store(app, store):
            # The first adjustment has read the level and changed it, but not committed. Not flushed
            # either: its UPDATE would make the other's level insert (ON CONFLICT) wait too, whether or
            # not the level was read FOR UPDATE.
            inventory.adjust(variant_id, main, 5, reason="received", actor="a@example.com", commit=False)
            first = db.session.connection(bind_arguments={"bind": tenant_engine(db)}).exec_driver_sql(
                "SELECT pg_backend_pid()").scalar()
            second = pool.submit(second_adjustment)
            _wait_until_blocked_by(first, second)
            db.session.commit()
        second.result(timeout=30)

    with as_store(app, store):
        assert db.session.scalar(sa.select(InventoryLevel.on_hand)) == 18
        history = db.session.execute(sa.select(InventoryAdjustment.delta, InventoryAdjustment.on_hand_after)
                                     .order_by(InventoryAdjustment.id)).all()
    assert [tuple(row) for row in history] == [(10, 10), (5, 15), (3, 18)]


@pytest.mark.parametrize("delta, reason, message", [
    ("0", "received", "other than 0"), ("1.5", "received", "whole number"), ("ten", "received", "whole number"),
    ("5", "because", "Choose a reason"),
])
def test_bad_adjustments_change_nothing(app, make_store, delta, reason, message):
    store = make_store()
    variant_id, main, _ = _setup(app, store)
    with pytest.raises(InventoryError, match=message):
        with as_store(app, store):
            inventory.adjust(variant_id, main, delta, reason=reason, actor="a@example.com")
    with as_store(app, store):
        assert db.session.scalar(sa.select(sa.func.count(InventoryAdjustment.id))) == 0


def test_the_last_active_location_cannot_be_switched_off(app, make_store):
    store = make_store()
    with as_store(app, store):
        only = inventory.create_location("Only one").id
    with pytest.raises(InventoryError, match="at least one active location"):
        with as_store(app, store):
            inventory.update_location(only, name="Only one", address="", active=False)


def _mail_for(store_name: str) -> list[email.message.Message]:
    mail_dir = Path(TEST_VAR) / "mail"
    messages = [email.message_from_bytes(p.read_bytes()) for p in sorted(mail_dir.glob("*.eml"))] \
        if mail_dir.exists() else []
    return [m for m in messages if f"[{store_name}]" in m["Subject"]]


def test_crossing_the_low_stock_threshold_emails_the_merchant_once(app, make_store, make_account, service_env):
    owner = make_account()
    store = make_store(owner=owner, name="Alert Test Store")
    variant_id, main, _ = _setup(app, store, threshold="5")
    with as_store(app, store):
        inventory.adjust(variant_id, main, 20, reason="received", actor=owner.email)
    with as_store(app, store):
        inventory.adjust(variant_id, main, -10, reason="shrinkage", actor=owner.email)  # 10 left: above 5
    flask_cli(service_env, "worker", "--burst", "--queue", "notifications")
    assert _mail_for(store.name) == []
    with as_store(app, store):
        inventory.adjust(variant_id, main, -6, reason="damaged", actor=owner.email)  # 4 left: crossed
    with as_store(app, store):
        inventory.adjust(variant_id, main, -1, reason="damaged", actor=owner.email)  # 3 left: still below
    flask_cli(service_env, "worker", "--burst", "--queue", "notifications")
    sent = _mail_for(store.name)
    assert len(sent) == 1
    assert sent[0]["To"] == owner.email and "Low stock: Beanie" in sent[0]["Subject"]
    assert "down to 4 available" in sent[0].get_payload()


def _fill_locations(app, store, count: int) -> None:
    with as_store(app, store):
        db.session.execute(sa.insert(Location), [{"name": f"Depot {n}", "active": False} for n in range(count)])
        db.session.commit()


def test_a_store_has_at_most_its_cap_of_locations(app, make_store):
    store = make_store()
    _fill_locations(app, store, inventory.MAX_LOCATIONS - 1)
    with as_store(app, store):
        inventory.create_location("Last depot")
    with pytest.raises(InventoryError, match="This store has 200 locations, the most it can have") as refused:
        with as_store(app, store):
            inventory.create_location("One too many")
    assert refused.value.status == 409
    with as_store(app, store):
        assert db.session.scalar(sa.select(sa.func.count(Location.id))) == 200


def test_two_requests_cannot_both_take_the_last_location(app, make_store):
    """The second waits for the first's transaction (the count runs under a
    per-store lock), then counts its row too and is refused."""
    store = make_store()
    _fill_locations(app, store, inventory.MAX_LOCATIONS - 1)
    outcome = {}

    def second():
        try:
            with as_store(app, store):
                inventory.create_location("Second")
        except InventoryError as error:
            outcome["error"] = error

    with as_store(app, store):
        assert count_for_insert(Location) == 199  # the first request, about to add the last one
        db.session.add(Location(name="First", active=True))
        db.session.flush()
        waiter = threading.Thread(target=second)
        waiter.start()
        waiting = sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                          "AND classid = :ns AND objid = :store")
        deadline = time.monotonic() + 30
        while not db.session.scalar(waiting, {"ns": LIMIT_LOCK, "store": store.id}):
            assert time.monotonic() < deadline and waiter.is_alive(), "the second request did not wait"
            time.sleep(0.01)
        db.session.commit()
    waiter.join()
    assert outcome["error"].code.value == "limit_reached"
    with as_store(app, store):
        assert sorted(db.session.scalars(sa.select(Location.name).where(Location.active))) == ["First"]
