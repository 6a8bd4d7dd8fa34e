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
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app.effects import after_commit
from app.extensions import db
from app.inventory import gate
from app.inventory.models import InventoryLevel, Location, Reservation
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


def in_minutes(minutes: int):
    return sa.func.now() + sa.func.make_interval(0, 0, 0, 0, 0, minutes)
