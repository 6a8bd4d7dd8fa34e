"""The mechanics under app.inventory.reservations: reading and taking units
at the levels, the rows that record them, and the locks that keep two
transactions from giving the same units back.

Lock order, to keep deadlocks rare (app.inventory.reservations retries the
one PostgreSQL breaks): advisory locks first, then reservation rows, then
levels in (variant_id, location_id) order.
"""
from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime
from functools import cache
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app.catalog.models import Product, Variant
from app.effects import after_commit
from app.extensions import db
from app.inventory import gate
from app.inventory.models import InventoryAdjustment, InventoryLevel, Location, Reservation
from tenants.context import require_store
from tenants.session import tenant_engine

ROUNDS = 20  # re-reads of the levels when other shoppers took the units a plan counted on


class Units(NamedTuple):
    variant_id: int
    location_id: int
    quantity: int


class ExpiredBusy(Exception):
    """Short of units while expired holds of the variant are locked by
    someone releasing them (a sweeper): start again, waiting for them first."""


def lock_key(*parts) -> int:
    raw = "\0".join(str(part) for part in (require_store().id, *parts)).encode()
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big", signed=True)


def lock(holder: str, variant_id: int | None = None) -> None:
    """Wait for other calls of this holder on this variant (or, without a
    variant, for the holder's other new holds), until the transaction ends."""
    key = lock_key("hold", holder, variant_id if variant_id is not None else "")
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)), bind_arguments={"bind": tenant_engine(db)})


# -- a holder's first hold of a variant: statements built once ------------------------------------------------
# (Built per call, their construction and cache keys cost more than PostgreSQL's work; they run on every add to cart.)

@cache
def _first_hold_statements() -> dict:
    level, active = InventoryLevel.__table__, sa.select(Location.id).where(Location.active)
    # Parameters are named b_*: an INSERT's or UPDATE's may not be named after its table's columns.
    variant, units = sa.bindparam("b_variant_id", type_=sa.BigInteger), sa.bindparam("b_units", type_=sa.Integer)
    ours = Reservation.holder == sa.bindparam("b_holder", type_=sa.String)
    first_with_enough = (
        sa.select(level.c.id)
        .join(Location, sa.and_(Location.store_id == level.c.store_id, Location.id == level.c.location_id))
        .where(level.c.variant_id == variant, Location.active, level.c.on_hand - level.c.reserved >= units)
        .order_by(Location.priority, Location.id).limit(1).scalar_subquery())
    rows = Reservation.__table__
    taken = (sa.update(level).where(level.c.id == first_with_enough, level.c.on_hand - level.c.reserved >= units)
             .values(reserved=level.c.reserved + units, updated_at=sa.func.now())
             .returning(level.c.location_id, (level.c.on_hand - level.c.reserved).label("left_there"))
             .cte("taken"))
    return {
        "locked_variant": sa.select(
            Variant.track_inventory, Product.status,
            sa.func.pg_advisory_xact_lock(sa.bindparam("variant_key", type_=sa.BigInteger)),
            sa.func.pg_advisory_xact_lock(sa.bindparam("holder_key", type_=sa.BigInteger)))
        .join(Product, sa.and_(Product.store_id == Variant.store_id, Product.id == Variant.product_id))
        .where(Variant.id == variant),
        "outlook": sa.select(
            sa.select(sa.func.count()).where(ours, Reservation.variant_id == variant).scalar_subquery(),
            sa.select(sa.func.count(sa.distinct(Reservation.variant_id)))
            .where(ours, Reservation.expires_at > sa.func.now()).scalar_subquery(),
            sa.select(sa.func.coalesce(sa.func.sum(level.c.on_hand - level.c.reserved), 0))
            .where(level.c.variant_id == variant, level.c.location_id.in_(active)).scalar_subquery(),
            sa.exists().where(Reservation.variant_id == variant, Reservation.expires_at <= sa.func.now())),
        # The conditional UPDATE and the row in one statement: the level's row lock is then held only
        # from this statement to the commit, not across another round trip (on one hot variant, every
        # other shopper waits on that lock).
        "take_whole": sa.insert(rows).from_select(
            ["store_id", "holder", "variant_id", "location_id", "quantity", "expires_at", "created_at",
             "updated_at"],
            sa.select(sa.bindparam("b_store_id", type_=sa.BigInteger), sa.bindparam("b_holder", type_=sa.String),
                      variant, taken.c.location_id, units, in_minutes(sa.bindparam("b_minutes", type_=sa.Integer)),
                      sa.func.now(), sa.func.now()))
        .returning(rows.c.location_id, rows.c.expires_at, sa.select(taken.c.left_there).scalar_subquery()),
    }


def _statement(name: str):
    return _first_hold_statements()[name]


def locked_variant(holder: str, variant_id: int):
    """The variant's (track_inventory, product status), or None when there is
    no such variant, with this holder's locks taken in the same round trip:
    first its lock on the variant, then its lock on its count of variants
    (the order lock() callers keep)."""
    return db.session.execute(_statement("locked_variant"), {
        "b_variant_id": variant_id, "variant_key": lock_key("hold", holder, variant_id),
        "holder_key": lock_key("hold", holder, "")}).first()


class Outlook(NamedTuple):
    """What one read (after the holder's locks) says about a holder's next hold of a variant."""

    mine: int  # the holder's rows of this variant, expired or not
    held_variants: int  # distinct variants the holder holds now (unexpired)
    free: int  # units free at the variant's active locations
    expired: bool  # the variant has lapsed holds (anyone's) still keeping units


def outlook(holder: str, variant_id: int) -> Outlook:
    return Outlook(*db.session.execute(_statement("outlook"), {"b_holder": holder, "b_variant_id": variant_id}).one())


class Taken(NamedTuple):
    location_id: int
    expires_at: datetime
    left_there: int  # units still free at that location


def take_whole(holder: str, variant_id: int, units: int, minutes: int) -> Taken | None:
    """The holder's first hold of the variant (its locks say it has no row
    of it): all `units` from the first active location, in priority order,
    that has them, with their row. None when no location had them by the
    time its level was locked (someone quicker took them, or they are split
    across locations): then nothing was written."""
    row = db.session.execute(_statement("take_whole"), {
        "b_store_id": require_store().id, "b_holder": holder, "b_variant_id": variant_id, "b_units": units,
        "b_minutes": minutes}, bind_arguments={"bind": tenant_engine(db)}).first()
    return Taken(*row) if row else None


def own_rows(holder: str, variant_id: int) -> list:
    return db.session.execute(
        sa.select(Reservation.id, Reservation.variant_id, Reservation.location_id, Reservation.quantity,
                  Reservation.expires_at, (Reservation.expires_at <= sa.func.now()).label("expired"),
                  Location.priority)
        .join(Location, sa.and_(Location.store_id == Reservation.store_id, Location.id == Reservation.location_id))
        .where(Reservation.holder == holder, Reservation.variant_id == variant_id)
        .order_by(Location.priority, Location.id).with_for_update(of=Reservation)).all()


def free_units(variant_id: int) -> list[tuple[int, int]]:
    """(location_id, units free) at the variant's active locations, in priority order."""
    rows = db.session.execute(
        sa.select(InventoryLevel.location_id, InventoryLevel.on_hand - InventoryLevel.reserved)
        .join(Location, sa.and_(Location.store_id == InventoryLevel.store_id,
                                Location.id == InventoryLevel.location_id))
        .where(InventoryLevel.variant_id == variant_id, Location.active)
        .order_by(Location.priority, Location.id)).all()
    return [(location_id, free) for location_id, free in rows]


def plan_for(free: list[tuple[int, int]], need: int, partial: bool) -> list[tuple[int, int]]:
    """Where to take `need` units from: the first location with enough, else
    each location in turn; empty when there is not enough (and not `partial`)."""
    for location_id, units in free:
        if units >= need:
            return [(location_id, need)]
    if not partial and sum(max(units, 0) for _, units in free) < need:
        return []
    plan, rest = [], need
    for location_id, units in free:
        if units > 0 and rest:
            plan.append((location_id, min(units, rest)))
            rest -= plan[-1][1]
    return plan


def take(variant_id: int, need: int, partial: bool, *, may_wait: bool = False) -> dict[int, int]:
    """Reserve up to `need` units at the levels; what was taken, by location.
    A plan can meet a shopper who was quicker; then the levels are read again.
    Short of units, the variant's expired holds (anyone's) are released and
    it tries once more; if some of them are being released by someone else
    right now, or were just freed by them (and `may_wait`), ExpiredBusy says
    to start over waiting for them."""
    taken: dict[int, int] = defaultdict(int)
    for freed_expired in (False, True):
        if freed_expired and not release_expired(variant_id):
            break
        for _ in range(ROUNDS):
            rest = need - sum(taken.values())
            plan = plan_for(free_units(variant_id), rest, partial) if rest else []
            if not plan:
                break
            for location_id, units in sorted(plan):  # one order of level locks for everyone
                if reserve_at(variant_id, location_id, units):
                    taken[location_id] += units
        if sum(taken.values()) == need:
            break
    short = need - sum(taken.values())
    if may_wait and short and (expired_left(variant_id) or plan_for(free_units(variant_id), short, partial)):
        raise ExpiredBusy  # a sweeper had the expired units locked, or has just freed them: once more, waiting
    return dict(taken)


def expired_left(variant_id: int) -> bool:
    return bool(db.session.scalar(sa.select(sa.exists().where(Reservation.variant_id == variant_id,
                                                             Reservation.expires_at <= sa.func.now()))))


def reserve_at(variant_id: int, location_id: int, units: int) -> bool:
    level = InventoryLevel.__table__
    return db.session.execute(
        sa.update(level).where(level.c.variant_id == variant_id, level.c.location_id == location_id,
                               level.c.on_hand - level.c.reserved >= units)
        .values(reserved=level.c.reserved + units, updated_at=sa.func.now()).returning(level.c.id),
        bind_arguments={"bind": tenant_engine(db)}).first() is not None


def release_expired(variant_id: int, *, wait: bool = False) -> int:
    """Release the variant's expired holds (any holder) that nobody else is
    releasing right now (`wait`: waiting for those who are); the units freed."""
    claimed = (sa.select(Reservation.id).where(Reservation.variant_id == variant_id,
                                               Reservation.expires_at <= sa.func.now())
               .with_for_update(skip_locked=not wait))
    rows = db.session.execute(sa.delete(Reservation).where(Reservation.id.in_(claimed.scalar_subquery()))
                              .returning(Reservation.variant_id, Reservation.location_id, Reservation.quantity)
                              .execution_options(synchronize_session=False)).all()
    return give_back(rows)


def add_rows(holder: str, variant_id: int, taken: dict[int, int]) -> None:
    if not taken:
        return
    table = Reservation.__table__
    statement = insert(table).values([
        {"store_id": require_store().id, "holder": holder, "variant_id": variant_id, "location_id": location_id,
         "quantity": units, "expires_at": sa.func.now(), "created_at": sa.func.now(), "updated_at": sa.func.now()}
        for location_id, units in sorted(taken.items())])
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["store_id", "holder", "variant_id", "location_id"],
        set_={"quantity": table.c.quantity + statement.excluded.quantity, "updated_at": sa.func.now()}),
        bind_arguments={"bind": tenant_engine(db)})


def lower(live: list, surplus: int) -> None:
    """Give back `surplus` units of these (locked) rows, last location first."""
    released = []
    for row in sorted(live, key=lambda r: (r.priority, r.location_id), reverse=True):
        if not surplus:
            break
        units = min(row.quantity, surplus)
        if units == row.quantity:
            delete_rows([row])
        else:
            db.session.execute(sa.update(Reservation).where(Reservation.id == row.id)
                               .values(quantity=Reservation.quantity - units, updated_at=sa.func.now())
                               .execution_options(synchronize_session=False))
        released.append(Units(row.variant_id, row.location_id, units))
        surplus -= units
    give_back(released)


def delete_rows(rows) -> None:
    if rows:
        db.session.execute(sa.delete(Reservation).where(Reservation.id.in_([row.id for row in rows]))
                           .execution_options(synchronize_session=False))


def give_back(rows) -> int:
    """Take the rows' units (anything with variant_id, location_id and
    quantity) out of the levels' `reserved`, in one lock order; the rows must
    already be gone (deleted by this transaction, so no one else gives them
    back). Returns the units."""
    totals: dict[tuple[int, int], int] = defaultdict(int)
    for row in rows:
        totals[(row.variant_id, row.location_id)] += row.quantity
    if not totals:
        return 0
    level = InventoryLevel.__table__
    db.session.execute(
        sa.update(level).where(level.c.variant_id == sa.bindparam("v"), level.c.location_id == sa.bindparam("l"))
        .values(reserved=level.c.reserved - sa.bindparam("q"), updated_at=sa.func.now()),
        [{"v": v, "l": l, "q": q} for (v, l), q in sorted(totals.items())],
        bind_arguments={"bind": tenant_engine(db)})
    per_variant: dict[int, int] = defaultdict(int)
    for (variant_id, _), units in totals.items():
        per_variant[variant_id] += units
    for variant_id, units in per_variant.items():  # the flash-sale gate's counters get them back
        after_commit(gate.give_back, require_store().id, variant_id, units, every_call=True)
    return sum(totals.values())


def sell(sold: dict[int, list[tuple[int, int]]], *, actor: str) -> None:
    """Units reserved for a sale leave the levels: on_hand and reserved drop
    together (what is available does not change), each level recorded in the
    stock history. Levels are updated in one order, like every other writer's."""
    level = InventoryLevel.__table__
    changes = sorted((variant_id, location_id, units) for variant_id, at in sold.items() for location_id, units in at)
    if not changes:
        return
    db.session.execute(
        sa.update(level).where(level.c.variant_id == sa.bindparam("v"), level.c.location_id == sa.bindparam("l"))
        .values(on_hand=level.c.on_hand - sa.bindparam("q"), reserved=level.c.reserved - sa.bindparam("q"),
                updated_at=sa.func.now()),
        [{"v": v, "l": loc, "q": q} for v, loc, q in changes], bind_arguments={"bind": tenant_engine(db)})
    on_hand = dict(((row.variant_id, row.location_id), row.on_hand) for row in db.session.execute(
        sa.select(level.c.variant_id, level.c.location_id, level.c.on_hand)
        .where(sa.tuple_(level.c.variant_id, level.c.location_id).in_([(v, loc) for v, loc, _ in changes])),
        bind_arguments={"bind": tenant_engine(db)}))
    db.session.add_all([InventoryAdjustment(variant_id=v, location_id=loc, delta=-q, on_hand_after=on_hand[(v, loc)],
                                            reason="sold", note="", actor=actor) for v, loc, q in changes])


def in_minutes(minutes: int):
    return sa.func.now() + sa.func.make_interval(0, 0, 0, 0, 0, minutes)
