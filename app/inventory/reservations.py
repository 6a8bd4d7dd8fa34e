"""Holds on stock: a holder (a cart, "cart:<token>") keeps units of a
variant out of everyone else's reach until its hold expires.

A hold is rows of `reservations` (holder, variant, location, quantity,
expires_at) plus the same units in `inventory_levels.reserved`, changed
together in one transaction, so a level's `reserved` is always the sum of
its rows. Taking units is one conditional UPDATE per location
(`reserved + q` only where `on_hand - reserved >= q`): PostgreSQL's row lock
is all that two shoppers wait on, and no interleaving can oversell.

- Locations give stock in their priority order: the whole quantity from the
  first location that has enough, else split across them in that order.
  Lowering a hold gives back from the last location first.
- Expired rows keep their units until released: by `sweep_expired` (the
  periodic job), by their own holder's next hold, or by a shopper who would
  otherwise meet a shortage (so a sweep running late never shows "sold out"
  wrongly). Whoever deletes a row (DELETE ... RETURNING, or rows locked
  first) is the only one who gives its units back.
- Calls of one holder on one variant (a double click) wait for each other
  (an advisory lock); different holders never do, beyond the level's row.
- Cached storefront pages show stock: a change that turns a variant sold out
  or back emits product.changed; other holds emit nothing.
- A holder's first hold of a variant (every add to cart) takes a short cut:
  no planning read, the UPDATE and the row in one statement, and the
  variant's total read again only when the level it took from is left empty.

Everything runs inside a store context, like the rest of the inventory service.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from psycopg import errors as pg_errors

from app.catalog.events import product_changed
from app.catalog.models import Variant
from app.extensions import db
from app.inventory import allocation
from app.inventory.models import Location, Reservation
from app.inventory.service import InventoryError, InventoryErrorCode, available
from app.parse import has_control_characters
from app.store.service import get_settings
from tenants.context import require_store
from tenants.session import tenant_engine

log = logging.getLogger(__name__)

MAX_HOLD = 100  # units one holder may hold of one variant
MAX_HELD_VARIANTS = 100  # distinct variants one holder may hold at once
MAX_HOLDER_LENGTH = 64
DEFAULT_MINUTES = 15
MAX_MINUTES = 1440  # a day
SWEEP_BATCH = 500
_DEADLOCK_RETRIES = 3


@dataclass(frozen=True)
class Hold:
    variant_id: int
    quantity: int  # units held now, summed over locations (0 = nothing held)
    expires_at: datetime | None  # None when quantity == 0 (or the variant does not track stock)
    locations: tuple[tuple[int, int], ...]  # (location_id, quantity), in the store's location priority
    tracked: bool = True  # False: the variant does not track stock; nothing is held and none needs to be


class Shortage(InventoryError):
    """Fewer units than asked for could be held; nothing was changed."""

    status = 409

    def __init__(self, variant_id: int, requested: int, available: int):
        self.variant_id, self.requested, self.available = variant_id, requested, available
        if available <= 0:
            message = "Sorry, this item is sold out."
        else:
            message = f"Sorry, only {available} of this item {'is' if available == 1 else 'are'} available."
        super().__init__(InventoryErrorCode.SHORTAGE, message, "quantity", status=409)


def _invalid(message: str, field: str, status: int = 400) -> InventoryError:
    return InventoryError(InventoryErrorCode.INVALID, message, field, status=status)


# -- the public verbs -------------------------------------------------------------------------------------------------

def hold(holder: str, variant_id: int, quantity: int, *, minutes: int | None = None) -> Hold:
    """Make `holder`'s hold on the variant exactly `quantity` units (0
    releases it), expiring `minutes` from now (default: the store's
    reservation_minutes). Raising Shortage changes nothing. Commits."""
    return _set(holder, variant_id, quantity, minutes, partial=False)


def hold_up_to(holder: str, variant_id: int, quantity: int, *, minutes: int | None = None) -> Hold:
    """As much as can be held, up to `quantity`; never raises Shortage. Commits."""
    return _set(holder, variant_id, quantity, minutes, partial=True)


def holds(holder: str) -> dict[int, Hold]:
    """The holder's unexpired holds, by variant id."""
    holder = _check_holder(holder)
    rows = db.session.execute(
        sa.select(Reservation.variant_id, Reservation.location_id, Reservation.quantity, Reservation.expires_at)
        .join(Location, sa.and_(Location.store_id == Reservation.store_id, Location.id == Reservation.location_id))
        .where(Reservation.holder == holder, Reservation.expires_at > sa.func.now())
        .order_by(Reservation.variant_id, Location.priority, Location.id)).all()
    grouped: dict[int, list] = defaultdict(list)
    for row in rows:
        grouped[row.variant_id].append(row)
    return {variant_id: Hold(variant_id, sum(r.quantity for r in parts), min(r.expires_at for r in parts),
                             tuple((r.location_id, r.quantity) for r in parts))
            for variant_id, parts in grouped.items()}


def refresh(holder: str, *, minutes: int | None = None) -> datetime | None:
    """Push the expiry of all the holder's unexpired holds to `minutes` from
    now; returns it (None: nothing was held). Commits."""
    holder, minutes = _check_holder(holder), _check_minutes(minutes)
    expiry = db.session.scalar(
        sa.update(Reservation).where(Reservation.holder == holder, Reservation.expires_at > sa.func.now())
        .values(expires_at=allocation.in_minutes(minutes), updated_at=sa.func.now()).returning(Reservation.expires_at)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return expiry


def release(holder: str, variant_id: int | None = None) -> None:
    """Give back the holder's units of one variant, or of all (expired too). Commits."""
    holder = _check_holder(holder)

    def once() -> dict[int, int]:
        query = sa.select(Reservation.variant_id).where(Reservation.holder == holder).distinct()
        if variant_id is not None:
            query = query.where(Reservation.variant_id == variant_id)
        before = available(list(db.session.scalars(query)))
        deleted = sa.delete(Reservation).where(Reservation.holder == holder)
        if variant_id is not None:
            deleted = deleted.where(Reservation.variant_id == variant_id)
        allocation.give_back(db.session.execute(deleted.returning(Reservation.variant_id, Reservation.location_id,
                                                        Reservation.quantity)
                                      .execution_options(synchronize_session=False)).all())
        db.session.commit()
        return before

    _announce_flips(_retrying(once))


def transfer(from_holder: str, to_holder: str) -> None:
    """Move `from_holder`'s unexpired holds to `to_holder` (a guest's cart
    joining the customer's at log-in). Where both hold a variant the units
    add up, to at most MAX_HOLD (the rest is given back, from the last
    location first), with the later expiry; a variant beyond the holder's
    MAX_HELD_VARIANTS is given back. Commits."""
    from_holder, to_holder = _check_holder(from_holder), _check_holder(to_holder)
    if from_holder == to_holder:
        return
    _announce_flips(_retrying(lambda: _transfer_once(from_holder, to_holder)))


def sweep_expired(*, batch: int = SWEEP_BATCH, rounds: int | None = None) -> int:
    """Give back the current store's expired holds, `batch` rows per
    transaction (at most `rounds` of them; None: until none is left).
    Returns the units released. Safe to run alongside itself and shoppers:
    rows are claimed with SKIP LOCKED and deleted by the one who claimed them."""
    released, done = 0, 0
    while rounds is None or done < rounds:
        units, rows = sweep_batch(batch)
        released += units
        done += 1
        if rows < batch:
            break
    return released


def sweep_batch(batch: int = SWEEP_BATCH) -> tuple[int, int]:
    """One transaction of the sweep: (units released, rows released)."""

    def once() -> tuple[dict[int, int], int, int]:
        claimed = (sa.select(Reservation.id).where(Reservation.expires_at <= sa.func.now())
                   .order_by(Reservation.expires_at).limit(batch).with_for_update(skip_locked=True))
        rows = db.session.execute(
            sa.delete(Reservation).where(Reservation.id.in_(claimed.scalar_subquery()))
            .returning(Reservation.variant_id, Reservation.location_id, Reservation.quantity)
            .execution_options(synchronize_session=False)).all()
        before = available(sorted({row.variant_id for row in rows}))  # levels unchanged so far
        units = allocation.give_back(rows)
        db.session.commit()
        return before, units, len(rows)

    before, units, count = _retrying(once)
    _announce_flips(before)
    return units, count


def reservation_minutes() -> int:
    """How long a hold lasts unless refreshed: the store setting (1..1440), default 15."""
    value = get_settings().get("reservation_minutes", DEFAULT_MINUTES)
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_MINUTES:
        return value
    return DEFAULT_MINUTES


def active_reservations(variant_ids: list[int], limit: int = 50) -> list[Reservation]:
    """Unexpired reservation rows of these variants, soonest to expire first (the dashboard's list)."""
    if not variant_ids:
        return []
    return list(db.session.scalars(
        sa.select(Reservation).where(Reservation.variant_id.in_(variant_ids), Reservation.expires_at > sa.func.now())
        .order_by(Reservation.expires_at, Reservation.id).limit(limit)))


# -- input ------------------------------------------------------------------------------------------------------------

def _check_holder(holder) -> str:
    if not isinstance(holder, str) or not 1 <= len(holder) <= MAX_HOLDER_LENGTH or has_control_characters(holder):
        raise _invalid(f"A holder is 1–{MAX_HOLDER_LENGTH} characters of text.", "holder")
    return holder


def _check_quantity(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_HOLD:
        raise _invalid(f"Choose a quantity from 0 to {MAX_HOLD}.", "quantity")
    return quantity


def _check_minutes(minutes) -> int:
    if minutes is None:
        return reservation_minutes()
    if isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES:
        raise _invalid(f"A hold lasts 1 to {MAX_MINUTES:,} minutes.", "minutes")
    return minutes


def _check_variant_id(variant_id) -> int:
    if isinstance(variant_id, bool) or not isinstance(variant_id, int) or not 1 <= variant_id < 2**63:
        raise InventoryError(InventoryErrorCode.NOT_FOUND, "No such item in this store.", "variant", status=404)
    return variant_id


# -- one hold, in one transaction -------------------------------------------------------------------------------------

def _set(holder, variant_id, quantity, minutes, *, partial: bool) -> Hold:
    holder, quantity = _check_holder(holder), _check_quantity(quantity)
    variant_id = _check_variant_id(variant_id)
    if minutes is not None:  # else the store's setting, read only once a hold is written (a refusal needs none)
        minutes = _check_minutes(minutes)

    def attempt():
        try:
            return _set_once(holder, variant_id, quantity, minutes, partial)
        except allocation.ExpiredBusy:  # short, while a sweeper is giving back expired units: wait for them this time
            db.session.rollback()
            return _set_once(holder, variant_id, quantity, minutes, partial, release_first=True)

    before, result = _retrying(attempt)
    _announce_flips(before)
    if quantity:
        count_cart(holder)
    return result


# -- carts that held stock: the denominator of the dashboard's reserve -> order conversion ----------------------------

CARTS_KEEP_DAYS = 40


def _carts_key(store_id: int, day) -> str:
    return f"vitrine:store:{store_id}:carts_held:{day.isoformat()}"


def count_cart(holder: str) -> None:
    """Note that a cart held stock today (a HyperLogLog per store and UTC day: distinct carts, in a few KB,
    about 1% off). Best effort: with Redis away the day's count is low, never an error."""
    if not holder.startswith("cart:"):
        return
    from datetime import timezone

    from app.extensions import get_redis, redis_breaker

    key = _carts_key(require_store().id, datetime.now(timezone.utc).date())

    def note():
        pipe = get_redis().pipeline()
        pipe.pfadd(key, holder)
        pipe.expire(key, CARTS_KEEP_DAYS * 86400)
        pipe.execute()

    redis_breaker().call(note)


def carts_that_held(days: list) -> int:
    """Distinct carts that held stock on any of `days` (dates, UTC); 0 while Redis is away."""
    from app.extensions import get_redis, redis_breaker

    keys = [_carts_key(require_store().id, day) for day in days]
    return int(redis_breaker().call(get_redis().pfcount, *keys, default=0) or 0)


def _set_once(holder: str, variant_id: int, quantity: int, minutes: int | None, partial: bool, *,
              release_first: bool = False):
    tracked = _variant(holder, variant_id, releasing=quantity == 0)  # and the holder's locks
    if tracked and quantity and not release_first:
        first = _first_hold(holder, variant_id, quantity, minutes, partial)
        if first is not None:
            return first
    minutes = _check_minutes(minutes)
    if release_first:  # before any level lock is held, so waiting for the sweeper's rows cannot deadlock
        allocation.release_expired(variant_id, wait=True)
    rows = allocation.own_rows(holder, variant_id)  # locked: the sweeper skips them, a release waits
    before = available([variant_id]) if tracked else {}
    released = [row for row in rows if row.expired or not tracked]
    live = [row for row in rows if not row.expired] if tracked else []
    allocation.delete_rows(released)
    allocation.give_back(released)  # the holder's own expired units count as free for its new hold
    current = sum(row.quantity for row in live)
    if not tracked:
        pass  # nothing to hold: any stock is enough
    elif quantity > current:
        if not live:
            _check_room(holder)
        taken = allocation.take(variant_id, quantity - current, partial, may_wait=not release_first)
        if sum(taken.values()) < quantity - current and not partial:
            most = min(MAX_HOLD, current + sum(taken.values()) + sum(free for _, free in allocation.free_units(variant_id)))
            raise Shortage(variant_id, quantity, most)  # _retrying rolls everything back
        allocation.add_rows(holder, variant_id, taken)
    elif quantity < current:
        allocation.lower(live, current - quantity)
    if quantity:
        db.session.execute(sa.update(Reservation).where(Reservation.holder == holder,
                                                        Reservation.variant_id == variant_id)
                           .values(expires_at=allocation.in_minutes(minutes), updated_at=sa.func.now())
                           .execution_options(synchronize_session=False))
    result = _hold_now(holder, variant_id) if tracked else Hold(variant_id, quantity, None, (), tracked=False)
    db.session.commit()
    return before, result


def _first_hold(holder: str, variant_id: int, quantity: int, minutes: int | None, partial: bool):
    """The common case (an add to cart): a holder taking units of a variant
    it has no rows of, all from one location, in two statements after the
    holder's locks: one read, then the conditional UPDATE and the row
    together. Returns (flip check, Hold); raises Shortage when the units are
    not there and no lapsed hold could free them, without having written
    anything; or None: the general path decides (nothing was changed)."""
    seen = allocation.outlook(holder, variant_id)
    if seen.mine:
        return None  # raise, lower or renew the holder's own rows
    if seen.held_variants >= MAX_HELD_VARIANTS:
        raise _full()
    if seen.free < quantity:
        if partial or seen.expired:
            return None  # take what there is / give lapsed holds back first
        raise Shortage(variant_id, quantity, min(MAX_HOLD, seen.free))  # no write yet: nothing to undo
    taken = allocation.take_whole(holder, variant_id, quantity, _check_minutes(minutes))
    if taken is None:
        return None  # a quicker shopper, or units split across locations: plan with the general path
    db.session.commit()
    # The variant had units (we took some); it can only have sold out if this level has none left now.
    maybe_flipped = {variant_id: quantity} if taken.left_there == 0 else {}
    return maybe_flipped, Hold(variant_id, quantity, taken.expires_at, ((taken.location_id, quantity),))


def _variant(holder: str, variant_id: int, *, releasing: bool) -> bool:
    """Whether the variant tracks stock; 404 for an unknown variant, or one
    of a product not for sale (unless the hold is being let go). Takes the
    holder's locks (allocation.locked_variant)."""
    row = allocation.locked_variant(holder, variant_id)
    if row is None or (row.status != "active" and not releasing):
        raise InventoryError(InventoryErrorCode.NOT_FOUND, "No such item in this store.", "variant", status=404)
    return row.track_inventory


def _check_room(holder: str) -> None:
    """A new variant for this holder: refused past MAX_HELD_VARIANTS (the
    holder lock, taken with the variant's, makes two new variants at once
    count each other)."""
    held = db.session.scalar(sa.select(sa.func.count(sa.distinct(Reservation.variant_id)))
                             .where(Reservation.holder == holder, Reservation.expires_at > sa.func.now()))
    if held >= MAX_HELD_VARIANTS:
        raise _full()


def _full() -> InventoryError:
    return _invalid(f"A cart can hold at most {MAX_HELD_VARIANTS} different items. Remove one to add another.",
                    "variant", status=409)


def _hold_now(holder: str, variant_id: int) -> Hold:
    rows = db.session.execute(
        sa.select(Reservation.location_id, Reservation.quantity, Reservation.expires_at)
        .join(Location, sa.and_(Location.store_id == Reservation.store_id, Location.id == Reservation.location_id))
        .where(Reservation.holder == holder, Reservation.variant_id == variant_id)
        .order_by(Location.priority, Location.id)).all()
    if not rows:
        return Hold(variant_id, 0, None, ())
    return Hold(variant_id, sum(r.quantity for r in rows), min(r.expires_at for r in rows),
                tuple((r.location_id, r.quantity) for r in rows))


def hand_over(from_holder: str, to_holder: str, *, minutes: int) -> dict[int, int]:
    """Give `from_holder`'s unexpired holds to a new holder that has none (a
    cart's holds becoming an order's), held `minutes` from now: one UPDATE,
    no unit moves, so what is available does not change. The caller keeps
    `from_holder` from changing meanwhile (the cart's lock). In the caller's
    transaction (the checkout's, which makes the order); returns variant ->
    units handed over."""
    from_holder, to_holder, minutes = _check_holder(from_holder), _check_holder(to_holder), _check_minutes(minutes)
    rows = db.session.execute(
        sa.update(Reservation).where(Reservation.holder == from_holder, Reservation.expires_at > sa.func.now())
        .values(holder=to_holder, expires_at=allocation.in_minutes(minutes), updated_at=sa.func.now())
        .returning(Reservation.variant_id, Reservation.quantity)
        .execution_options(synchronize_session=False)).all()
    handed: dict[int, int] = defaultdict(int)
    for variant_id, quantity in rows:
        handed[variant_id] += quantity
    return dict(handed)


# -- a sale -----------------------------------------------------------------------------------------------------------

def sell(holder: str, wanted: dict[int, int], *, actor: str) -> dict[int, list[tuple[int, int]]]:
    """Turn the holder's holds into a sale of `wanted` (variant -> units), in
    the caller's transaction (it commits, with the order that made the sale):
    the holder's rows go, and each level's on_hand and reserved drop by their
    units together. Units whose hold lapsed and was swept are taken afresh
    while there is stock. Raises Shortage (nothing sold: the caller rolls
    back) when a variant cannot be had; returns variant -> [(location, units)]."""
    holder = _check_holder(holder)
    rows = db.session.execute(sa.delete(Reservation).where(Reservation.holder == holder)
                              .returning(Reservation.variant_id, Reservation.location_id, Reservation.quantity)
                              .execution_options(synchronize_session=False)).all()
    held: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        held[row.variant_id][row.location_id] += row.quantity
    surplus = []
    for variant_id, units in sorted(wanted.items()):
        have = sum(held[variant_id].values())
        if have < units:
            for location_id, more in allocation.take(variant_id, units - have, partial=False).items():
                held[variant_id][location_id] += more
            if sum(held[variant_id].values()) < units:
                raise Shortage(variant_id, units, have)
        surplus += _beyond(variant_id, held[variant_id], units)
    allocation.give_back(surplus)  # held more than the order took (never, unless the cart changed meanwhile)
    sold = {variant_id: sorted(held[variant_id].items()) for variant_id in wanted}
    allocation.sell(sold, actor=actor)
    return sold


def _beyond(variant_id: int, at: dict[int, int], units: int) -> list:
    """Trim `at` (location -> units held) to `units`, from its last location; the trimmed units."""
    extra, trimmed = sum(at.values()) - units, []
    for location_id in sorted(at, reverse=True):
        if extra <= 0:
            break
        cut = min(extra, at[location_id])
        at[location_id] -= cut
        extra -= cut
        trimmed.append(allocation.Units(variant_id, location_id, cut))
        if not at[location_id]:
            del at[location_id]
    return trimmed


# -- moving a guest's holds -------------------------------------------------------------------------------------------

def _transfer_once(from_holder: str, to_holder: str) -> dict[int, int]:
    variant_ids = sorted(set(db.session.scalars(
        sa.select(Reservation.variant_id).where(Reservation.holder == from_holder).distinct())))
    if not variant_ids:
        db.session.commit()
        return {}
    for key in sorted(allocation.lock_key("hold", holder, variant_id) for holder in (from_holder, to_holder)
                      for variant_id in variant_ids):
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(key)), bind_arguments={"bind": tenant_engine(db)})
    allocation.lock(to_holder)  # its count of variants
    before = available(variant_ids)
    theirs = [row for variant_id in variant_ids for row in allocation.own_rows(from_holder, variant_id)]
    ours = [row for variant_id in variant_ids for row in allocation.own_rows(to_holder, variant_id)]
    allocation.delete_rows(theirs)
    released = [row for row in theirs if row.expired] + [row for row in ours if row.expired]
    allocation.delete_rows([row for row in ours if row.expired])
    held = set(db.session.scalars(sa.select(Reservation.variant_id).where(
        Reservation.holder == to_holder, Reservation.expires_at > sa.func.now()).distinct()))
    for variant_id in variant_ids:
        moving = [row for row in theirs if row.variant_id == variant_id and not row.expired]
        staying = [row for row in ours if row.variant_id == variant_id and not row.expired]
        if not moving:
            continue
        if variant_id not in held and len(held) >= MAX_HELD_VARIANTS:
            released += moving
            continue
        held.add(variant_id)
        room = MAX_HOLD - sum(row.quantity for row in staying)
        kept: dict[int, int] = defaultdict(int)
        for row in moving:  # in priority order: the last locations' units are the ones given back
            units = max(0, min(row.quantity, room))
            room -= units
            if units:
                kept[row.location_id] += units
            if units < row.quantity:
                released.append(allocation.Units(row.variant_id, row.location_id, row.quantity - units))
        allocation.add_rows(to_holder, variant_id, kept)
        expiry = max(row.expires_at for row in [*moving, *staying])
        db.session.execute(sa.update(Reservation).where(Reservation.holder == to_holder,
                                                        Reservation.variant_id == variant_id)
                           .values(expires_at=expiry, updated_at=sa.func.now())
                           .execution_options(synchronize_session=False))
    allocation.give_back(released)
    db.session.commit()
    return before


# -- plumbing ---------------------------------------------------------------------------------------------------------

def _retrying(attempt: Callable):
    """Run one transaction; roll it back on any error, and run it again
    when PostgreSQL broke a deadlock by picking it (two shoppers' level
    locks met in different orders after a re-plan)."""
    for tries in range(_DEADLOCK_RETRIES + 1):
        try:
            return attempt()
        except sa.exc.DBAPIError as error:
            db.session.rollback()
            if not isinstance(error.orig, pg_errors.DeadlockDetected) or tries == _DEADLOCK_RETRIES:
                raise
        except BaseException:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")


def _announce_flips(before: dict[int, int]) -> None:
    """After a commit: emit product.changed for the products whose variants
    went from available to sold out or back (cached pages show that), and
    for no other. Read after the commit, so of two shoppers taking the last
    units at two locations, the one that commits last sees the variant sold out."""
    if not before:
        return
    try:
        after = available(list(before))
        flipped = [variant_id for variant_id, units in before.items() if (units > 0) != (after[variant_id] > 0)]
        if flipped:
            product_changed(*db.session.scalars(sa.select(Variant.product_id).where(Variant.id.in_(flipped))
                                                .order_by(Variant.product_id).distinct()))
        db.session.commit()
    except sa.exc.SQLAlchemyError:  # the hold itself is committed: pages may show stale stock until their TTL
        db.session.rollback()
        log.exception("could not tell the caches that variants %s sold out or came back", sorted(before))
