"""Holds on stock: hold/raise/lower/release, locations by priority, expiry
and the sweeper, transfer, caps, and shoppers (and sweepers) at once."""
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from app.catalog import products as catalog
from app.catalog.events import PRODUCT_CHANGED
from app.catalog.products import OptionSpec
from app.effects.models import Outbox
from app.extensions import db
from app.inventory import allocation, reservations, service as inventory
from app.inventory.jobs import sweep_reservations
from app.inventory.models import InventoryLevel, Reservation
from app.inventory.reservations import MAX_HELD_VARIANTS, MAX_HOLD, Hold, Shortage
from app.inventory.service import InventoryError
from app.jobs import rq_connection
from app.scheduler import build_scheduler
from app.store import service as store_service
from tenants.session import tenant_engine
from tests.conftest import as_store, wait_until

ACTOR = "owner@example.com"


def _product(app, store, *, status="active", sizes=None, track=True) -> list[int]:
    with as_store(app, store):
        product = catalog.create_product(
            {"title": "Canvas tote", "price": "20", "status": status, "track_inventory": track},
            options=[OptionSpec("Size", sizes)] if sizes else (), actor=ACTOR)
        return [variant.id for variant in product.variants]


def _locations(app, store) -> tuple[int, int]:
    """The store's first location (made with the store) and a second one, in that priority."""
    with as_store(app, store):
        inventory.ensure_default_location()
    with as_store(app, store):
        inventory.create_location("Back room")
    with as_store(app, store):
        first, second = [location.id for location in inventory.locations()]
    return first, second


def _stock(app, store, variant_id, counts: dict[int, int]) -> None:
    with as_store(app, store):
        for location_id, count in counts.items():
            inventory.set_on_hand(variant_id, location_id, count, reason="received", actor=ACTOR)


def _setup(app, store, counts):
    variant_id = _product(app, store)[0]
    first, second = _locations(app, store)
    _stock(app, store, variant_id, {first: counts[0], second: counts[1]})
    return variant_id, first, second


def _levels(variant_id) -> dict[int, tuple[int, int]]:
    """location -> (on_hand, reserved)."""
    rows = db.session.execute(sa.select(InventoryLevel.location_id, InventoryLevel.on_hand, InventoryLevel.reserved)
                              .where(InventoryLevel.variant_id == variant_id)).all()
    return {location_id: (on_hand, reserved) for location_id, on_hand, reserved in rows}


def _rows(variant_id=None) -> list[tuple[str, int, int]]:
    query = sa.select(Reservation.holder, Reservation.location_id, Reservation.quantity) \
        .order_by(Reservation.holder, Reservation.location_id)
    if variant_id is not None:
        query = query.where(Reservation.variant_id == variant_id)
    return [tuple(row) for row in db.session.execute(query)]


def _reserved_matches_rows() -> None:
    """Every level's reserved is the sum of its reservation rows."""
    mismatched = db.session.execute(sa.text(
        "SELECT l.variant_id, l.location_id, l.reserved, coalesce(sum(r.quantity), 0) AS held "
        "FROM inventory_levels l LEFT JOIN reservations r ON r.store_id = l.store_id "
        "AND r.variant_id = l.variant_id AND r.location_id = l.location_id "
        "GROUP BY l.variant_id, l.location_id, l.reserved HAVING l.reserved <> coalesce(sum(r.quantity), 0)"),
        bind_arguments={"bind": tenant_engine(db)}).all()
    assert mismatched == []


def _expire(holder=None) -> None:
    query = sa.update(Reservation).values(expires_at=sa.func.now() - sa.text("interval '1 minute'"))
    if holder is not None:
        query = query.where(Reservation.holder == holder)
    db.session.execute(query)
    db.session.commit()


def _changed_products() -> int:
    return db.session.scalar(sa.select(sa.func.count(Outbox.id)).where(Outbox.topic == PRODUCT_CHANGED))


# -- one holder -------------------------------------------------------------------------------------------------------

def test_a_hold_is_raised_lowered_and_released_with_the_levels(app, make_store):
    store = make_store()
    variant_id, first, second = _setup(app, store, (5, 5))
    with as_store(app, store):
        held = reservations.hold("cart:a", variant_id, 3, minutes=10)
    assert (held.variant_id, held.quantity, held.locations) == (variant_id, 3, ((first, 3),))
    assert held.expires_at is not None
    with as_store(app, store):
        assert reservations.hold("cart:a", variant_id, 5).locations == ((first, 5),)
    with as_store(app, store):
        assert reservations.hold("cart:a", variant_id, 8).locations == ((first, 5), (second, 3))
        assert _levels(variant_id) == {first: (5, 5), second: (5, 3)}
    with as_store(app, store):  # lowering gives back from the last location first
        assert reservations.hold("cart:a", variant_id, 6).locations == ((first, 5), (second, 1))
    with as_store(app, store):
        assert reservations.hold("cart:a", variant_id, 4).locations == ((first, 4),)
        assert _levels(variant_id) == {first: (5, 4), second: (5, 0)}
        assert reservations.holds("cart:a")[variant_id].quantity == 4
    with as_store(app, store):
        reservations.release("cart:a", variant_id)
    with as_store(app, store):
        assert reservations.holds("cart:a") == {}
        assert _levels(variant_id) == {first: (5, 0), second: (5, 0)} and _rows() == []
    with as_store(app, store):
        reservations.hold("cart:a", variant_id, 2)
    with as_store(app, store):  # 0 releases too
        assert reservations.hold("cart:a", variant_id, 0) == Hold(variant_id, 0, None, ())
        assert _levels(variant_id)[first] == (5, 0)


def test_a_shortage_changes_nothing(app, make_store):
    store = make_store()
    variant_id, first, second = _setup(app, store, (2, 1))
    with as_store(app, store):
        reservations.hold("cart:other", variant_id, 1)
    with as_store(app, store):
        reservations.hold("cart:a", variant_id, 1)
    with pytest.raises(Shortage) as refused:
        with as_store(app, store):
            reservations.hold("cart:a", variant_id, 5)
    assert (refused.value.variant_id, refused.value.requested, refused.value.available) == (variant_id, 5, 2)
    assert refused.value.status == 409 and refused.value.code.value == "shortage"
    assert "only 2" in refused.value.message
    with as_store(app, store):
        assert reservations.holds("cart:a")[variant_id].quantity == 1
        assert sum(reserved for _, reserved in _levels(variant_id).values()) == 2
        assert _rows(variant_id) == [("cart:a", first, 1), ("cart:other", first, 1)]
    with as_store(app, store):  # as much as there is, instead
        assert reservations.hold_up_to("cart:a", variant_id, 5).quantity == 2
    with as_store(app, store):
        assert reservations.hold_up_to("cart:b", variant_id, 5) == Hold(variant_id, 0, None, ())
        _reserved_matches_rows()


def test_the_first_location_with_enough_gives_it_all_else_they_split_by_priority(app, make_store):
    store = make_store()
    variant_id, first, second = _setup(app, store, (3, 10))
    with as_store(app, store):  # the first has 3: the second gives all 5
        assert reservations.hold("cart:a", variant_id, 5).locations == ((second, 5),)
    with as_store(app, store):
        assert reservations.hold("cart:b", variant_id, 2).locations == ((first, 2),)
    with as_store(app, store):  # 1 + 5 left: split, first location first
        assert reservations.hold("cart:c", variant_id, 6).locations == ((first, 1), (second, 5))
    with as_store(app, store):
        inventory.move_location(second, "up")
    with as_store(app, store):
        assert [location.id for location in inventory.locations()] == [second, first]
        assert inventory.default_location().id == second
    _stock(app, store, variant_id, {first: 13})
    with as_store(app, store):  # the order of a hold's locations follows the new priority
        assert reservations.holds("cart:c")[variant_id].locations == ((second, 5), (first, 1))
        assert reservations.hold("cart:d", variant_id, 4).locations == ((first, 4),)  # the second has none left
    with as_store(app, store):  # lowering gives back from the (now) last location first
        assert reservations.hold("cart:c", variant_id, 5).locations == ((second, 5),)
        _reserved_matches_rows()


def test_inactive_locations_give_no_stock(app, make_store):
    store = make_store()
    variant_id, first, second = _setup(app, store, (5, 5))
    with as_store(app, store):
        location = inventory.locations()[0]
        inventory.update_location(first, name=location.name, address="", active=False)
    with pytest.raises(Shortage):
        with as_store(app, store):
            reservations.hold("cart:a", variant_id, 6)
    with as_store(app, store):
        assert reservations.hold("cart:a", variant_id, 5).locations == ((second, 5),)


def test_unknown_and_unsold_variants_are_not_found_and_bad_input_is_refused(app, make_store):
    store = make_store()
    variant_id, _, _ = _setup(app, store, (5, 5))
    draft = _product(app, store, status="draft")[0]
    for holder, variant, quantity, minutes, code, status in [
        ("cart:a", 10**12, 1, None, "not_found", 404), ("cart:a", draft, 1, None, "not_found", 404),
        ("cart:a", variant_id, MAX_HOLD + 1, None, "invalid", 400), ("cart:a", variant_id, -1, None, "invalid", 400),
        ("cart:a", variant_id, "2", None, "invalid", 400), ("cart:a", variant_id, True, None, "invalid", 400),
        ("cart:a", variant_id, 1.0, None, "invalid", 400), ("c" * 65, variant_id, 1, None, "invalid", 400),
        ("", variant_id, 1, None, "invalid", 400), ("cart:\x00", variant_id, 1, None, "invalid", 400),
        ("cart:a", variant_id, 1, 0, "invalid", 400), ("cart:a", variant_id, 1, 1441, "invalid", 400),
    ]:
        with pytest.raises(InventoryError) as refused:
            with as_store(app, store):
                reservations.hold(holder, variant, quantity, minutes=minutes)
        assert (refused.value.code.value, refused.value.status) == (code, status), (holder, variant, quantity)
    with as_store(app, store):
        assert _rows() == [] and all(reserved == 0 for _, reserved in _levels(variant_id).values())
        assert reservations.hold("cart:a", draft, 0).quantity == 0  # letting go is always allowed


def test_a_variant_that_does_not_track_stock_needs_no_hold(app, make_store):
    store = make_store()
    variant_id = _product(app, store, track=False)[0]
    with as_store(app, store):
        held = reservations.hold("cart:a", variant_id, 7)
    assert (held.quantity, held.tracked, held.locations) == (7, False, ())
    with as_store(app, store):
        assert _rows() == [] and reservations.holds("cart:a") == {}


def test_a_holder_holds_at_most_100_of_a_variant_and_100_variants(app, make_store):
    store = make_store()
    sizes = [f"S{n}" for n in range(MAX_HELD_VARIANTS + 1)]
    variant_ids = _product(app, store, sizes=sizes)
    with as_store(app, store):
        location = inventory.ensure_default_location().id
        db.session.execute(sa.insert(InventoryLevel), [{"variant_id": v, "location_id": location, "on_hand": 500}
                                                       for v in variant_ids])
        db.session.commit()
    with as_store(app, store):
        assert reservations.hold("cart:a", variant_ids[0], MAX_HOLD).quantity == MAX_HOLD
    _held_already(app, store, "cart:a", variant_ids[1:MAX_HELD_VARIANTS - 1], location)
    with as_store(app, store):
        reservations.hold("cart:a", variant_ids[MAX_HELD_VARIANTS - 1], 1)
    with pytest.raises(InventoryError, match="at most 100 different items") as refused:
        with as_store(app, store):
            reservations.hold("cart:a", variant_ids[-1], 1)
    assert refused.value.status == 409
    with as_store(app, store):
        assert len(reservations.holds("cart:a")) == MAX_HELD_VARIANTS
        assert reservations.hold("cart:a", variant_ids[1], 2).quantity == 2  # a held variant can still change
        assert reservations.hold("cart:b", variant_ids[-1], 1).quantity == 1  # another holder is not capped by it
        _reserved_matches_rows()


def _held_already(app, store, holder, variant_ids, location_id, quantity=1, *, expired=False):
    """Holds made in bulk, as hold() leaves them (rows plus reserved), to keep the setup of a test fast."""
    with as_store(app, store):
        expiry = sa.func.now() + sa.text("interval '-1 minute'" if expired else "interval '15 minutes'")
        for variant_id in variant_ids:
            db.session.execute(sa.insert(Reservation).values(
                holder=holder, variant_id=variant_id, location_id=location_id, quantity=quantity, expires_at=expiry))
        db.session.execute(sa.update(InventoryLevel).where(InventoryLevel.variant_id.in_(variant_ids),
                                                           InventoryLevel.location_id == location_id)
                           .values(reserved=InventoryLevel.reserved + quantity))
        db.session.commit()


# -- expiry -----------------------------------------------------------------------------------------------------------

def test_expired_holds_are_not_listed_and_are_swept_once(app, make_store):
    store = make_store()
    variant_id, first, second = _setup(app, store, (5, 5))
    with as_store(app, store):
        reservations.hold("cart:a", variant_id, 7)
    with as_store(app, store):
        reservations.hold("cart:b", variant_id, 2)
    with as_store(app, store):
        _expire("cart:a")
        assert list(reservations.holds("cart:a")) == [] and list(reservations.holds("cart:b")) == [variant_id]
        assert reservations.refresh("cart:a") is None  # an expired hold is not brought back
        assert sum(reserved for _, reserved in _levels(variant_id).values()) == 9  # kept until released
    with as_store(app, store):
        assert reservations.sweep_expired() == 7
    with as_store(app, store):
        assert reservations.sweep_expired() == 0
        assert _rows(variant_id) == [("cart:b", second, 2)]
        _reserved_matches_rows()


def test_a_shopper_short_of_stock_releases_expired_holds_first(app, make_store):
    store = make_store()
    variant_id, first, second = _setup(app, store, (3, 2))
    with as_store(app, store):
        reservations.hold("cart:gone", variant_id, 5)
    with as_store(app, store):
        _expire("cart:gone")
    with as_store(app, store):  # no sweep ran, yet the units are there for the next shopper
        assert reservations.hold("cart:b", variant_id, 4).locations == ((first, 3), (second, 1))
    with as_store(app, store):
        assert _rows(variant_id) == [("cart:b", first, 3), ("cart:b", second, 1)]
        _reserved_matches_rows()


def test_a_hold_after_its_own_expiry_is_made_afresh(app, make_store):
    store = make_store()
    variant_id, first, _ = _setup(app, store, (3, 0))
    with as_store(app, store):
        reservations.hold("cart:a", variant_id, 3)
    with as_store(app, store):
        _expire("cart:a")
    with as_store(app, store):
        held = reservations.hold("cart:a", variant_id, 2)
    assert held.locations == ((first, 2),)
    with as_store(app, store):
        assert _levels(variant_id)[first] == (3, 2) and _rows(variant_id) == [("cart:a", first, 2)]
        assert reservations.holds("cart:a")[variant_id].expires_at == held.expires_at


def test_refresh_pushes_every_unexpired_hold(app, make_store):
    store = make_store()
    variant_id, _, _ = _setup(app, store, (5, 0))
    with as_store(app, store):
        first_expiry = reservations.hold("cart:a", variant_id, 1, minutes=1).expires_at
    with as_store(app, store):
        later = reservations.refresh("cart:a", minutes=60)
    assert (later - first_expiry).total_seconds() > 55 * 60
    with as_store(app, store):
        assert reservations.holds("cart:a")[variant_id].expires_at == later


def test_the_holds_last_the_stores_setting(app, make_store):
    store = make_store()
    variant_id, _, _ = _setup(app, store, (5, 0))
    with as_store(app, store):
        assert reservations.reservation_minutes() == 15
        store_service.update_settings({"reservation_minutes": 90}, ACTOR)
    with as_store(app, store):
        assert reservations.reservation_minutes() == 90
        held = reservations.hold("cart:a", variant_id, 1)
        now = db.session.scalar(sa.select(sa.func.now()))
    assert 89 * 60 < (held.expires_at - now).total_seconds() <= 90 * 60


def test_two_sweepers_at_once_release_each_row_once(app, make_store):
    store = make_store()
    variant_id, first, second = _setup(app, store, (150, 150))
    with as_store(app, store):  # 120 expired holds of 2 units, half at each location
        for n in range(120):
            db.session.execute(sa.insert(Reservation).values(
                holder=f"cart:{n}", variant_id=variant_id, location_id=(first, second)[n % 2], quantity=2,
                expires_at=sa.func.now() - sa.text("interval '1 minute'")))
        db.session.execute(sa.update(InventoryLevel).where(InventoryLevel.variant_id == variant_id)
                           .values(reserved=120))
        db.session.commit()
        _reserved_matches_rows()
    start = threading.Barrier(2)

    def sweeper():
        with as_store(app, store):
            start.wait()
            return reservations.sweep_expired(batch=7)

    with ThreadPoolExecutor(2) as pool:
        released = [f.result(timeout=60) for f in [pool.submit(sweeper), pool.submit(sweeper)]]
    assert sum(released) == 240
    with as_store(app, store):
        assert _rows() == [] and _levels(variant_id) == {first: (150, 0), second: (150, 0)}


def test_the_sweep_job_walks_every_store(app, make_store):
    stores = [make_store(), make_store()]
    for store in stores:
        variant_id, _, _ = _setup(app, store, (10, 0))
        for n in range(5):
            with as_store(app, store):
                reservations.hold(f"cart:{n}", variant_id, 1)
        with as_store(app, store):
            _expire()
    with app.app_context():
        assert sweep_reservations(batch=2) >= 10  # other tests' stores may have some too
    for store in stores:
        with as_store(app, store):
            assert _rows() == []
            _reserved_matches_rows()


# -- two holders ------------------------------------------------------------------------------------------------------

def test_a_guests_holds_move_to_the_customer(app, make_store):
    store = make_store()
    sizes = ["S", "M", "L"]
    small, medium, large = _product(app, store, sizes=sizes)
    first, second = _locations(app, store)
    for variant_id in (small, medium, large):
        _stock(app, store, variant_id, {first: 100, second: 100})
    with as_store(app, store):
        reservations.hold("cart:guest", small, 30)
        reservations.hold("cart:guest", medium, 1)
        reservations.hold("cart:guest", large, 4)
        reservations.hold("cart:customer", small, 90, minutes=60)
    with as_store(app, store):
        db.session.execute(sa.update(Reservation).where(Reservation.holder == "cart:guest",
                                                        Reservation.variant_id == large)
                           .values(expires_at=sa.func.now() - sa.text("interval '1 minute'")))
        db.session.commit()
        customer_expiry = reservations.holds("cart:customer")[small].expires_at
    with as_store(app, store):
        reservations.transfer("cart:guest", "cart:customer")
    with as_store(app, store):
        assert reservations.holds("cart:guest") == {}
        held = reservations.holds("cart:customer")
        assert {v: h.quantity for v, h in held.items()} == {small: MAX_HOLD, medium: 1}
        assert held[small].expires_at == customer_expiry  # the later of the two
        # The guest's 30 came from the first location, the customer's 90 from the second (the first had
        # 70 left): 10 of the guest's stay, 20 go back.
        assert held[small].locations == ((first, 10), (second, 90))
        assert _rows(large) == []  # expired: given back, not moved
        assert sum(reserved for _, reserved in _levels(small).values()) == MAX_HOLD
        _reserved_matches_rows()


def test_a_double_click_holds_once(app, make_store):
    store = make_store()
    variant_id, first, _ = _setup(app, store, (10, 0))
    start = threading.Barrier(8)

    def click():
        with as_store(app, store):
            start.wait()
            return reservations.hold("cart:a", variant_id, 3)

    with ThreadPoolExecutor(8) as pool:
        results = [f.result(timeout=60) for f in [pool.submit(click) for _ in range(8)]]
    assert {result.quantity for result in results} == {3}
    with as_store(app, store):
        assert _levels(variant_id)[first] == (10, 3) and _rows(variant_id) == [("cart:a", first, 3)]


def _rush(app, store, variant_id, attempts: int, threads: int, *, sweeping=False, expired=0):
    """`attempts` shoppers each try to hold 1 unit, `threads` at a time (and
    a sweeper looping meanwhile); returns (held, refusals)."""
    stop = threading.Event()

    def attempt(n):
        try:
            with as_store(app, store):
                return reservations.hold(f"cart:rush-{n}", variant_id, 1).quantity
        except Shortage as shortage:
            return shortage

    def sweeper():
        swept = 0
        while not stop.is_set():
            with as_store(app, store):
                swept += reservations.sweep_expired(batch=5)
        return swept

    with ThreadPoolExecutor(threads + 1) as pool:
        sweeping_future = pool.submit(sweeper) if sweeping else None
        outcomes = list(pool.map(attempt, range(attempts)))
        stop.set()
        swept = sweeping_future.result(timeout=60) if sweeping_future else 0
    held = [o for o in outcomes if o == 1]
    refusals = [o for o in outcomes if o != 1]
    assert all(isinstance(o, Shortage) and o.available == 0 for o in refusals), refusals[:3]
    return len(held), len(refusals), swept


def _check_rush(app, store, variant_id, first, second):
    with as_store(app, store):
        levels = _levels(variant_id)
        assert levels[first][1] + levels[second][1] == 100  # every unit held, none twice
        assert db.session.scalar(sa.select(sa.func.sum(Reservation.quantity))
                                 .where(Reservation.expires_at > sa.func.now())) == 100
        _reserved_matches_rows()
        assert inventory.available([variant_id]) == {variant_id: 0}
        assert sum(on_hand - reserved for on_hand, reserved in levels.values()) == 0


def test_many_shoppers_at_once_hold_exactly_the_stock(app, make_store):
    store = make_store()
    variant_id, first, second = _setup(app, store, (60, 40))
    held, refused, _ = _rush(app, store, variant_id, attempts=500, threads=32)
    assert (held, refused) == (100, 400)
    _check_rush(app, store, variant_id, first, second)


def test_shoppers_and_a_sweeper_at_once_never_oversell(app, make_store):
    store = make_store()
    variant_id, first, second = _setup(app, store, (60, 40))
    for n in range(40):  # abandoned carts: 80 units in expired holds
        with as_store(app, store):
            reservations.hold(f"cart:old-{n}", variant_id, 2)
    with as_store(app, store):
        _expire()
    held, refused, swept = _rush(app, store, variant_id, attempts=300, threads=16, sweeping=True)
    assert (held, refused) == (100, 200)
    _check_rush(app, store, variant_id, first, second)
    with as_store(app, store):
        reservations.sweep_expired()
        assert db.session.scalar(sa.select(sa.func.count(Reservation.id)).where(
            Reservation.holder.like("cart:old-%"))) == 0


# -- cached pages -----------------------------------------------------------------------------------------------------

def test_only_selling_out_and_coming_back_tell_the_caches(app, make_store):
    store = make_store()
    variant_id, first, _ = _setup(app, store, (3, 0))
    with as_store(app, store):
        db.session.execute(sa.delete(Outbox))
        db.session.commit()
    with as_store(app, store):
        reservations.hold("cart:a", variant_id, 2)
    with as_store(app, store):
        assert _changed_products() == 0  # still in stock
        reservations.hold("cart:b", variant_id, 1)
    with as_store(app, store):
        assert _changed_products() == 1  # sold out
        reservations.hold("cart:a", variant_id, 1)
    with as_store(app, store):
        assert _changed_products() == 2  # back in stock
        reservations.hold("cart:d", variant_id, 1)
    with as_store(app, store):
        assert _changed_products() == 3  # sold out again
        _expire()
    with as_store(app, store):
        reservations.hold("cart:c", variant_id, 3)  # releases the expired holds: sold out before and after
    with as_store(app, store):
        assert _changed_products() == 3
        reservations.release("cart:c")
    with as_store(app, store):
        assert _changed_products() == 4


# -- who waits for whom -----------------------------------------------------------------------------------------------

def test_a_sweeper_and_shoppers_letting_go_at_once_give_each_unit_back_once(app, make_store):
    store = make_store()
    variant_id, first, second = _setup(app, store, (100, 100))
    with as_store(app, store):  # 80 holds of 2 units, expired, half at each location
        for n in range(80):
            db.session.execute(sa.insert(Reservation).values(
                holder=f"cart:{n}", variant_id=variant_id, location_id=(first, second)[n % 2], quantity=2,
                expires_at=sa.func.now() - sa.text("interval '1 minute'")))
        db.session.execute(sa.update(InventoryLevel).where(InventoryLevel.variant_id == variant_id)
                           .values(reserved=80))
        db.session.commit()
    start = threading.Barrier(5)

    def sweeper():
        with as_store(app, store):
            start.wait()
            return reservations.sweep_expired(batch=3)

    def shopper(offset):
        start.wait()
        for n in range(offset, 80, 4):
            with as_store(app, store):
                if n % 8 < 4:
                    reservations.release(f"cart:{n}")
                else:
                    reservations.hold(f"cart:{n}", variant_id, 0)

    with ThreadPoolExecutor(5) as pool:
        futures = [pool.submit(sweeper)] + [pool.submit(shopper, offset) for offset in range(4)]
        for future in futures:
            future.result(timeout=60)
    with as_store(app, store):
        assert _rows() == [] and _levels(variant_id) == {first: (100, 0), second: (100, 0)}


def test_calls_of_one_holder_wait_for_each_other_and_other_holders_do_not(app, make_store):
    store = make_store()
    variant_id, _, _ = _setup(app, store, (10, 0))
    with as_store(app, store):
        key = allocation.lock_key("hold", "cart:a", variant_id)
    with app.app_context(), tenant_engine(db, store).connect() as conn:
        conn.execute(sa.select(sa.func.pg_advisory_lock(key)))  # as if cart:a's first click were still running
        conn.commit()

        def click(holder):
            with as_store(app, store):
                return reservations.hold(holder, variant_id, 2).quantity

        with ThreadPoolExecutor(2) as pool:
            waiting = pool.submit(click, "cart:a")
            wait_until(lambda: conn.execute(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                                    "AND NOT granted")).scalar() > 0, "cart:a to wait")
            conn.commit()
            assert pool.submit(click, "cart:b").result(timeout=30) == 2  # not held up by cart:a
            assert not waiting.done()
            conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
            conn.commit()
            assert waiting.result(timeout=30) == 2


def test_the_sweep_runs_every_30_seconds_on_the_reservations_queue(app):
    with app.app_context():
        jobs = build_scheduler(rq_connection()).get_jobs()
    assert ("app.inventory.jobs.sweep_reservations", "reservations", 30) in {
        (job.func_name, job.queue_name, job.interval) for job in jobs}
