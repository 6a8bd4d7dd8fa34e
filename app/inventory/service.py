"""Locations, stock levels and their adjustment history.

Every change to on_hand is one conditional UPDATE (it can never go below
what is reserved) plus an adjustment row saying who, when, why and by how
much, in the same transaction.
"""
from __future__ import annotations

from enum import Enum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app.catalog.events import product_changed
from app.catalog.models import Product, Variant
from app.domain_errors import DomainError
from app.effects import after_commit
from app.extensions import db
from app.inventory import gate
from app.inventory.events import stock_low
from app.inventory.models import ORDER_REASONS, REASONS, InventoryAdjustment, InventoryLevel, Location
from app.pagination import Page, paginate
from app.parse import BadInput, whole_number
from app.store.limits import count_for_insert
from tenants.context import require_store

MAX_QUANTITY = 1_000_000_000
# What Shopify's Plus plan long allowed. Every active location is a column
# of the editor's stock table (200 keep a page of it near 1 MB), and
# locations are never deleted, only made inactive, so all of them count.
MAX_LOCATIONS = 200
# A new store's first location (Shopify's default location is named after the
# shop's address; we ask for none at sign-up, and a plain name stays true when
# the store is renamed). The merchant renames it on the Locations page.
DEFAULT_LOCATION = "Main location"


class InventoryErrorCode(str, Enum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    TAKEN = "taken"
    BELOW_RESERVED = "below_reserved"
    LIMIT_REACHED = "limit_reached"
    SHORTAGE = "shortage"


class InventoryError(DomainError):
    pass


def locations(*, active_only: bool = False) -> list[Location]:
    """The store's locations in priority order (where stock is taken from first)."""
    query = sa.select(Location).order_by(Location.priority, Location.id)
    if active_only:
        query = query.where(Location.active)
    return list(db.session.scalars(query))


def _clean_location(name: str, address: str) -> tuple[str, str]:
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 120:
        raise InventoryError(InventoryErrorCode.INVALID, "Give the location a name of 1–120 characters.", "name")
    address = (address or "").strip()
    if len(address) > 1000:
        raise InventoryError(InventoryErrorCode.INVALID, "Keep the address under 1000 characters.", "address")
    return name, address


def create_location(name: str, address: str = "") -> Location:
    name, address = _clean_location(name, address)
    if db.session.scalar(sa.select(Location.id).where(sa.func.lower(Location.name) == name.lower())):
        raise InventoryError(InventoryErrorCode.TAKEN, f"There is already a location called “{name}”.", "name")
    if count_for_insert(Location) >= MAX_LOCATIONS:
        raise InventoryError(InventoryErrorCode.LIMIT_REACHED,
                             f"This store has {MAX_LOCATIONS:,} locations, the most it can have. Rename an "
                             "inactive one and make it active instead.", "name", status=409)
    location = Location(name=name, address=address, active=True)
    db.session.add(location)
    db.session.commit()
    return location


def ensure_default_location(*, commit: bool = True) -> Location | None:
    """Give a store that has no location at all its default one, so stock can
    be counted at once. Safe to run twice, or twice at once (the count runs
    under the per-store limit lock); returns the location it made, if any."""
    location = None
    if not count_for_insert(Location):
        location = Location(name=DEFAULT_LOCATION, address="", active=True)
        db.session.add(location)
    if commit:
        db.session.commit()  # also when nothing was added: ends the transaction and its lock
    return location


def default_location() -> Location | None:
    """Where stock goes unless the merchant says otherwise: the first active
    location in priority order (as the CSV import reads it)."""
    return db.session.scalar(sa.select(Location).where(Location.active)
                             .order_by(Location.priority, Location.id).limit(1))


def update_location(location_id: int, *, name: str, address: str, active: bool) -> Location:
    location = _location(location_id)
    name, address = _clean_location(name, address)
    clash = db.session.scalar(sa.select(Location.id).where(sa.func.lower(Location.name) == name.lower(),
                                                           Location.id != location.id))
    if clash:
        raise InventoryError(InventoryErrorCode.TAKEN, f"There is already a location called “{name}”.", "name")
    if not active and location.active and len(locations(active_only=True)) == 1:
        raise InventoryError(InventoryErrorCode.INVALID, "A store needs at least one active location.", "active")
    location.name, location.address, location.active = name, address, active
    db.session.commit()
    return location


def move_location(location_id: int, direction: str) -> Location:
    """Swap a location with its neighbour in the priority order ("up" comes
    first sooner). The store's locations are locked and numbered 1..n again,
    so two moves at once cannot leave a tie or a gap. Commits."""
    if direction not in ("up", "down"):
        raise InventoryError(InventoryErrorCode.INVALID, "Choose Move up or Move down.", "direction")
    ordered = list(db.session.scalars(sa.select(Location).order_by(Location.priority, Location.id)
                                      .with_for_update()))
    index = next((i for i, location in enumerate(ordered) if location.id == location_id), None)
    if index is None:
        raise InventoryError(InventoryErrorCode.NOT_FOUND, "No such location in this store.", status=404)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, location in enumerate(ordered, start=1):
        if location.priority != position:
            location.priority = position
    moved = ordered[other] if 0 <= other < len(ordered) else ordered[index]
    db.session.commit()
    return moved


def _location(location_id: int) -> Location:
    location = db.session.get(Location, (require_store().id, location_id))
    if location is None:
        raise InventoryError(InventoryErrorCode.NOT_FOUND, "No such location in this store.", status=404)
    return location


def levels(variant_ids: list[int]) -> dict[tuple[int, int], InventoryLevel]:
    """(variant_id, location_id) -> level, for the levels that exist."""
    if not variant_ids:
        return {}
    rows = db.session.scalars(sa.select(InventoryLevel).where(InventoryLevel.variant_id.in_(variant_ids)))
    return {(level.variant_id, level.location_id): level for level in rows}


def available(variant_ids: list[int]) -> dict[int, int]:
    """Units a shopper could buy per variant, over all active locations."""
    if not variant_ids:
        return {}
    rows = db.session.execute(
        sa.select(InventoryLevel.variant_id, sa.func.sum(InventoryLevel.on_hand - InventoryLevel.reserved))
        .join(Location, sa.and_(Location.store_id == InventoryLevel.store_id, Location.id == InventoryLevel.location_id))
        .where(InventoryLevel.variant_id.in_(variant_ids), Location.active)
        .group_by(InventoryLevel.variant_id))
    totals = dict.fromkeys(variant_ids, 0)
    totals.update({variant_id: int(total) for variant_id, total in rows})
    return totals


def available_units(product_id: int) -> int | None:
    """Units of the product a shopper could still reserve, over its
    variants and the active locations; None when some variant does not
    track stock (it never runs out). One query."""
    untracked, total = db.session.execute(
        sa.select(sa.func.bool_or(sa.not_(Variant.track_inventory)),
                  sa.select(sa.func.coalesce(sa.func.sum(InventoryLevel.on_hand - InventoryLevel.reserved), 0))
                  .join(Variant, sa.and_(Variant.store_id == InventoryLevel.store_id,
                                         Variant.id == InventoryLevel.variant_id))
                  .join(Location, sa.and_(Location.store_id == InventoryLevel.store_id,
                                          Location.id == InventoryLevel.location_id))
                  .where(Variant.product_id == product_id, Variant.track_inventory, Location.active)
                  .scalar_subquery())
        .where(Variant.product_id == product_id)).one()
    return None if untracked else int(total)


def sellable_products():
    """A select of the ids of products a shopper could buy now: some variant
    does not track stock, or has on_hand > reserved at an active location.
    (Levels never hold negative availability, so "some level has stock" is
    "the variant's total is above 0" — and a semi-join, not a sum per row.)"""
    untracked = sa.select(Variant.product_id).where(sa.not_(Variant.track_inventory))
    stocked = (sa.select(Variant.product_id)
               .join(InventoryLevel, sa.and_(InventoryLevel.store_id == Variant.store_id,
                                             InventoryLevel.variant_id == Variant.id))
               .join(Location, sa.and_(Location.store_id == InventoryLevel.store_id,
                                       Location.id == InventoryLevel.location_id))
               .where(Location.active, InventoryLevel.on_hand > InventoryLevel.reserved))
    return sa.union(untracked, stocked)


def _parse_quantity(raw, field: str, *, signed: bool) -> int:
    label = "The change" if signed else "The count"
    try:
        number = whole_number(raw, field=field, label=label, minimum=-MAX_QUANTITY if signed else 0,
                              maximum=MAX_QUANTITY, signed=signed)
    except BadInput as error:  # callers (the editor, the inventory page, imports) know InventoryError
        raise InventoryError(InventoryErrorCode.INVALID, error.message, field) from None
    if number is None:
        kind = "a whole number such as 5 or -2" if signed else "a whole number, 0 or more"
        raise InventoryError(InventoryErrorCode.INVALID, f"Enter {kind}.", field)
    return number


def usual_reason(kind: str, delta: int = 0) -> str:
    """The reason a change has when the merchant names none: a count ("set
    on hand to") corrects the books, stock coming in was received, and stock
    going out for no stated reason is a correction too (damage and loss are
    the merchant's to say)."""
    return "received" if kind == "adjust" and delta > 0 else "correction"


def adjust(variant_id: int, location_id: int, delta, *, reason: str, note: str = "", actor: str,
           commit: bool = True) -> InventoryLevel:
    """Add `delta` (may be negative) to on_hand at a location; a blank
    `reason` is the usual one for the change."""
    delta = _parse_quantity(delta, "delta", signed=True)
    if delta == 0:
        raise InventoryError(InventoryErrorCode.INVALID, "Enter a change other than 0.", "delta")
    reason = reason or usual_reason("adjust", delta)
    return _apply(variant_id, location_id, lambda on_hand: delta, reason=reason, note=note, actor=actor,
                  commit=commit)


def set_on_hand(variant_id: int, location_id: int, quantity, *, reason: str, note: str = "", actor: str,
                commit: bool = True) -> InventoryLevel:
    """Set on_hand to a counted `quantity` (recorded as the difference); a
    blank `reason` is a correction."""
    quantity = _parse_quantity(quantity, "quantity", signed=False)
    return _apply(variant_id, location_id, lambda on_hand: quantity - on_hand, reason=reason or usual_reason("set"),
                  note=note, actor=actor, commit=commit)


def restock(variant_id: int, location_id: int, units: int, *, note: str, actor: str) -> InventoryLevel:
    """Put units back on hand from an order (cancelled, or refunded with its items returned), in the
    caller's transaction."""
    return _apply(variant_id, location_id, lambda on_hand: units, reason="restocked", note=note, actor=actor,
                  commit=False, reasons=ORDER_REASONS)


def _apply(variant_id, location_id, delta_for, *, reason, note, actor, commit, reasons=REASONS) -> InventoryLevel:
    if reason not in reasons:
        raise InventoryError(InventoryErrorCode.INVALID, "Choose a reason for the change.", "reason")
    note = (note or "").strip()[:500]
    store_id = require_store().id
    variant = db.session.get(Variant, (store_id, variant_id))
    if variant is None:
        raise InventoryError(InventoryErrorCode.NOT_FOUND, "No such variant in this store.", status=404)
    location = _location(location_id)
    if not location.active:
        raise InventoryError(InventoryErrorCode.INVALID, f"{location.name} is not active.", "location")
    db.session.execute(insert(InventoryLevel).values(store_id=store_id, variant_id=variant_id,
                                                     location_id=location_id).on_conflict_do_nothing())
    after_commit(gate.forget, store_id, variant_id)  # counted stock: the flash-sale gate reads it again
    level = db.session.scalar(sa.select(InventoryLevel).where(
        InventoryLevel.variant_id == variant_id, InventoryLevel.location_id == location_id).with_for_update())
    # Only a variant with a threshold needs the total before and after (one more query).
    watched = variant.low_stock_threshold is not None
    before = available([variant_id])[variant_id] if watched else 0
    delta = delta_for(level.on_hand)
    if level.on_hand + delta < level.reserved:
        raise InventoryError(InventoryErrorCode.BELOW_RESERVED,
                             f"{location.name} has {level.on_hand} on hand and {level.reserved} reserved for "
                             f"orders: on hand cannot go below {level.reserved}.", "delta", status=409)
    if level.on_hand + delta > MAX_QUANTITY:
        raise InventoryError(InventoryErrorCode.INVALID, "That is more stock than we can count.", "delta")
    if delta:
        level.on_hand += delta
        db.session.add(InventoryAdjustment(variant_id=variant_id, location_id=location_id, delta=delta,
                                           on_hand_after=level.on_hand, reason=reason, note=note, actor=actor))
        product_changed(variant.product_id)  # availability is part of the product's document
    after = before + delta
    if watched and before > variant.low_stock_threshold >= after:
        stock_low(variant.id, after)
    if commit:
        db.session.commit()
    return level


def product_history(product_id: int, limit: int = 15) -> list[InventoryAdjustment]:
    """The latest adjustments of a product's variants, newest first. (A join,
    not a list of 2,048 variant ids: 1.5 ms instead of 30.)"""
    return list(db.session.scalars(
        sa.select(InventoryAdjustment)
        .join(Variant, sa.and_(Variant.store_id == InventoryAdjustment.store_id,
                               Variant.id == InventoryAdjustment.variant_id))
        .where(Variant.product_id == product_id)
        .order_by(InventoryAdjustment.created_at.desc(), InventoryAdjustment.id.desc()).limit(limit)))


OVERVIEW_PER_PAGE = 50


def overview(q: str = "", page: int = 1) -> tuple[Page, dict[tuple[int, int], InventoryLevel]]:
    """The inventory page: a page of (variant, product) rows of tracked
    variants, and their levels per location."""
    query = (sa.select(Variant, Product)
             .join(Product, sa.and_(Product.store_id == Variant.store_id, Product.id == Variant.product_id))
             .where(Variant.track_inventory).order_by(Product.title, Variant.position, Variant.id))
    if q:
        pattern = f"%{q.strip()}%"
        query = query.where(sa.or_(Product.title.ilike(pattern), Variant.sku.ilike(pattern)))
    rows = paginate(query, page=page, per_page=OVERVIEW_PER_PAGE, rows=True)
    return rows, levels([variant.id for variant, _ in rows.items])
