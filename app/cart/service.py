"""The cart: add, change and remove lines, see it with today's prices, and
merge a guest's cart into the customer's on login.

Each line's quantity is backed by a hold on the variant's stock
(app.inventory.reservations; PostgreSQL decides). A change writes the line
first and holds the stock last, so a refused hold is undone in Redis and a
committed hold is always answered as a success. Looking at the cart repairs
what time did to it: lapsed holds are taken again while stock allows,
otherwise the shopper is told what sold out.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import NamedTuple

import sqlalchemy as sa

from app.cart import storage
from app.cart.errors import CartError, CartErrorCode, Shortage
from app.cart.storage import Line, Owner
from app.catalog.models import Product, ProductImage, Variant
from app.extensions import db
from app.inventory import gate, reservations
from app.launches import service as launches
from app.parse import whole_number

MAX_LINES = 100
MAX_LINE_QUANTITY = 100
# A view pushes the holds' expiry again once a minute has gone by since they were last pushed.
REFRESH_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class Item:
    """What the cart shows of a variant a shopper can buy (its product is active)."""

    variant_id: int
    product_id: int
    product_title: str
    product_handle: str
    variant_title: str
    sku: str
    price: int
    compare_at_price: int | None
    tracked: bool
    image_key: str | None
    image_alt: str

    @property
    def title(self) -> str:
        return self.product_title if self.variant_title in ("", "Default Title") else \
            f"{self.product_title} — {self.variant_title}"


@dataclass(frozen=True)
class LineView:
    item: Item
    quantity: int
    added_price: int
    held_until: datetime | None  # None for a variant that does not track stock

    @property
    def id(self) -> str:
        return str(self.item.variant_id)

    @property
    def unit_price(self) -> int:
        return self.item.price

    @property
    def total(self) -> int:
        return self.item.price * self.quantity

    @property
    def price_changed(self) -> bool:
        return self.added_price != self.item.price

    @property
    def held_minutes(self) -> int | None:
        """Whole minutes the hold has left (rounded up), for "held for you for 12 more minutes"."""
        if self.held_until is None:
            return None
        return max(0, -(-int((self.held_until - datetime.now(UTC)).total_seconds()) // 60))


@dataclass(frozen=True)
class CartView:
    lines: tuple[LineView, ...]
    currency: str
    notices: tuple[str, ...] = ()

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def subtotal(self) -> int:
        return sum(line.total for line in self.lines)

    @property
    def held_until(self) -> datetime | None:
        """When the first hold lapses: the cart says "held until" this."""
        times = [line.held_until for line in self.lines if line.held_until]
        return min(times) if times else None


def quantity_of(value, *, minimum: int) -> int:
    """A line quantity from input: a whole number between `minimum` and the cap, else a 422."""
    number = whole_number(value, field="quantity", label="Quantity", minimum=minimum, maximum=MAX_LINE_QUANTITY)
    if number is None:
        raise CartError(CartErrorCode.INVALID, "Quantity is required.", "quantity")
    return number


def add(owner: Owner, variant_id: int, quantity: int, *, pass_token: str | None = None) -> Line:
    """Add `quantity` units of a variant (to its line if there is one). A hot
    variant passes the flash-sale gate first, so a sold-out answer costs no
    query; a product behind a launch needs the shopper's pass."""
    return _add(owner, variant_id, quantity, pass_token, images=False).line


def add_and_view(owner: Owner, variant_id: int, quantity: int, currency: str, *,
                 pass_token: str | None = None) -> CartView:
    """add(), answered with the cart. When the line is the cart's only one
    (a new shopper's first add) the answer is made of what the add just read
    and wrote: the item, the line and its fresh hold, with nothing to repair
    or refresh. Otherwise the cart is read as view() reads it."""
    added = _add(owner, variant_id, quantity, pass_token, images=True)
    if not added.others:
        held_until = added.hold.expires_at if added.hold else None
        return CartView((LineView(added.item, added.line.quantity, added.line.price, held_until),), currency)
    return view(owner, currency)


class _Added(NamedTuple):
    item: Item
    line: Line
    hold: reservations.Hold | None  # None: the variant does not track stock
    others: bool  # the cart has other lines


def _add(owner: Owner, variant_id: int, quantity: int, pass_token: str | None, *, images: bool) -> _Added:
    with _gated(variant_id, quantity):
        item = _item(variant_id, images=images)
        _admitted(item, pass_token)
        with storage.changing(owner) as lines:
            before = lines.get(variant_id)
            if before is None and len(lines) >= MAX_LINES:
                raise CartError(CartErrorCode.FULL, f"A cart holds at most {MAX_LINES} different items.", status=409)
            wanted = (before.quantity if before else 0) + quantity
            if wanted > MAX_LINE_QUANTITY:
                raise CartError(CartErrorCode.INVALID, f"A cart holds at most {MAX_LINE_QUANTITY} of one item"
                                + (f"; yours has {before.quantity} already." if before else "."), "quantity")
            after = replace(before, quantity=wanted) if before else Line(variant_id, wanted, item.price, storage.now())
            hold = _change(owner, item, before, after)
    return _Added(item, after, hold, bool(lines.keys() - {variant_id}))


def set_quantity(owner: Owner, variant_id: int, quantity: int, *, pass_token: str | None = None) -> Line | None:
    """Set a line's quantity; 0 removes it. More units need what add() needs."""
    had = _line(owner, variant_id).quantity
    with _gated(variant_id, quantity - had):
        with storage.changing(owner):
            before = _line(owner, variant_id)
            item = _item_or_drop(owner, variant_id)
            if quantity > before.quantity:
                _admitted(item, pass_token)
            after = replace(before, quantity=quantity) if quantity else None
            _change(owner, item, before, after)
    return after


def _admitted(item: Item, pass_token: str | None) -> None:
    """A product behind a launch (a waiting room, a draw) goes only to a
    shopper with a pass: otherwise a 403 naming where to get one."""
    try:
        launches.check_admission(item.product_id, pass_token)
    except launches.LaunchError as refused:
        raise CartError(CartErrorCode.PASS_REQUIRED, refused.message, "variant_id", status=403,
                        url=refused.url) from None


@contextmanager
def _gated(variant_id: int, more: int) -> Iterator[None]:
    try:
        with gate.passage(variant_id, more):
            yield
    except gate.GateClosed:
        raise Shortage(variant_id, 0, "Sorry, this item is sold out.") from None


def remove(owner: Owner, variant_id: int) -> None:
    with storage.changing(owner):
        before = _line(owner, variant_id)
        storage.drop_line(owner, variant_id)
        try:
            reservations.release(owner.holder, variant_id)
        except Exception:
            storage.save_line(owner, before)
            raise


def empty(owner: Owner) -> None:
    with storage.changing(owner):
        reservations.release(owner.holder)
        storage.drop(owner)


def item_count(owner: Owner) -> int:
    """The mini-cart's number: Redis only, no query."""
    return storage.item_count(owner)


def view(owner: Owner, currency: str) -> CartView:
    """The cart with today's prices and holds, repaired where holds lapsed."""
    lines = storage.load(owner)
    if not lines:
        return CartView((), currency)
    items = _items(list(lines))
    holds = reservations.holds(owner.holder)
    notices: list[str] = []
    if _needs_repair(lines, items, holds):
        try:
            with storage.changing(owner):
                notices = _repair(owner, storage.load(owner), items, reservations.holds(owner.holder))
        except CartError as busy:
            if busy.code is not CartErrorCode.BUSY:
                raise
            # Another change is under way; it will be repaired next time.
        lines, holds = storage.load(owner), reservations.holds(owner.holder)
    holds = _refreshed(owner, holds)
    storage.touch(owner)
    shown = tuple(LineView(items[v], line.quantity, line.price, holds[v].expires_at if v in holds else None)
                  for v, line in lines.items() if v in items)
    return CartView(shown, currency, tuple(notices))


def merge(guest: Owner, customer: Owner) -> list[str]:
    """On login: the guest's lines join the customer's cart, quantities added
    up and capped at what can be held; returns what was capped, for the shopper."""
    guest_lines = storage.load(guest)
    if not guest_lines:
        return []
    notices = []
    with storage.changing(customer), storage.changing(guest):
        reservations.transfer(guest.holder, customer.holder)
        mine = storage.load(customer)
        items = _items(list(guest_lines))
        for variant_id, line in guest_lines.items():
            item, own = items.get(variant_id), mine.get(variant_id)
            if item is None:
                continue
            wanted = min(MAX_LINE_QUANTITY, line.quantity + (own.quantity if own else 0))
            if own is None and len(mine) >= MAX_LINES:
                got = 0
            else:
                got = reservations.hold_up_to(customer.holder, variant_id, wanted).quantity if item.tracked \
                    else wanted
            if got < wanted:
                notices.append(_capped(item, got))
            if got:
                mine[variant_id] = replace(own or line, quantity=got)
                storage.save_line(customer, mine[variant_id])
            elif own is None:
                reservations.release(customer.holder, variant_id)
        storage.drop(guest)
    return notices


def _capped(item: Item, kept: int) -> str:
    if kept == 0:
        return f"{item.title} sold out, so it was not added to your cart."
    return f"Only {kept} of {item.title} could be kept in your cart."


def _line(owner: Owner, variant_id: int) -> Line:
    line = storage.load(owner).get(variant_id)
    if line is None:
        raise CartError(CartErrorCode.NOT_FOUND, "That item is not in your cart.", "line", status=404)
    return line


def _change(owner: Owner, item: Item, before: Line | None, after: Line | None) -> reservations.Hold | None:
    """Write the line, then hold its stock; put the line back when the hold
    is refused. The hold (None for a variant that does not track stock)."""
    if after:
        storage.save_line(owner, after)
    else:
        storage.drop_line(owner, item.variant_id)
    try:
        return _hold(owner, item, after.quantity if after else 0) if item.tracked else None
    except reservations.Shortage as short:
        _restore(owner, item.variant_id, before)
        raise Shortage(item.variant_id, short.available, _short_message(item, short.available, before)) from None
    except BaseException:
        _restore(owner, item.variant_id, before)
        raise


def _hold(owner: Owner, item: Item, wanted: int) -> reservations.Hold:
    try:
        return reservations.hold(owner.holder, item.variant_id, wanted)
    except reservations.Shortage:
        gate.conflict(item.variant_id)  # enough of these make the variant hot
        raise


def _restore(owner: Owner, variant_id: int, before: Line | None) -> None:
    if before:
        storage.save_line(owner, before)
    else:
        storage.drop_line(owner, variant_id)


def _short_message(item: Item, available: int, before: Line | None) -> str:
    if available <= 0:
        return f"{item.title} is sold out."
    have = f" Your cart has {before.quantity}." if before else ""
    return f"Only {available} of {item.title} can be in your cart.{have}"


def _needs_repair(lines: dict[int, Line], items: dict[int, Item], holds: dict) -> bool:
    if any(variant_id not in lines for variant_id in holds):
        return True
    for variant_id, line in lines.items():
        item = items.get(variant_id)
        if item is None:
            return True
        if item.tracked and (holds[variant_id].quantity if variant_id in holds else 0) != line.quantity:
            return True
    return False


def _repair(owner: Owner, lines: dict[int, Line], items: dict[int, Item], holds: dict) -> list[str]:
    """Drop lines of products gone from sale, hold again what lapsed (as much as
    can be), give back holds without a line; say what changed."""
    notices = []
    for variant_id in holds.keys() - lines.keys():
        reservations.release(owner.holder, variant_id)
    for variant_id, line in lines.items():
        item = items.get(variant_id)
        if item is None:
            storage.drop_line(owner, variant_id)
            notices.append("An item in your cart is no longer sold, so it was removed.")
            continue
        held = holds[variant_id].quantity if variant_id in holds else 0
        if not item.tracked or held == line.quantity:
            continue
        got = reservations.hold_up_to(owner.holder, variant_id, line.quantity).quantity
        if got == 0:
            storage.drop_line(owner, variant_id)
            notices.append(f"{item.title} sold out while it was in your cart, so it was removed.")
        elif got < line.quantity:
            storage.save_line(owner, replace(line, quantity=got))
            notices.append(f"Only {got} of {item.title} are left; your cart now has {got}.")
    return notices


def _refreshed(owner: Owner, holds: dict) -> dict:
    """Activity keeps the holds: push their expiry once it has run down by REFRESH_AFTER."""
    if not holds:
        return holds
    full = timedelta(minutes=reservations.reservation_minutes())
    soonest = min(hold.expires_at for hold in holds.values())
    if soonest - datetime.now(UTC) < full - REFRESH_AFTER:
        reservations.refresh(owner.holder)
        return reservations.holds(owner.holder)
    return holds


def _item(variant_id: int, *, images: bool = True) -> Item:
    item = _items([variant_id], images=images).get(variant_id)
    if item is None:
        raise CartError(CartErrorCode.NOT_FOUND, "That product is not for sale here.", "variant_id", status=404)
    return item


def _item_or_drop(owner: Owner, variant_id: int) -> Item:
    """The line's item, or its line dropped (its product left the shop) and a 404."""
    try:
        return _item(variant_id)
    except CartError:
        storage.drop_line(owner, variant_id)
        reservations.release(owner.holder, variant_id)
        raise


def _items(variant_ids: list[int], *, images: bool = True) -> dict[int, Item]:
    """The sellable variants among these ids, with their product and (if
    `images`) picture: the variant's own, else the product's first. One query."""
    if not variant_ids:
        return {}
    items = {}
    for row in db.session.execute(_items_query(images), {"ids": variant_ids}):
        key, alt = (row.storage_key, row.alt) if images else (None, None)
        options = [value for value in (row.option1, row.option2, row.option3) if value]
        items[row.id] = Item(row.id, row.product_id, row.title, row.handle, " / ".join(options), row.sku or "",
                             row.price, row.compare_at_price, row.track_inventory,
                             key, (alt or row.title) if key else "")
    return items


@cache
def _items_query(images: bool):
    """Built once (every add runs it, and building it costs more than running it)."""
    query = (sa.select(Variant.id, Variant.product_id, Product.title, Product.handle, Variant.option1,
                       Variant.option2, Variant.option3, Variant.sku, Variant.price, Variant.compare_at_price,
                       Variant.track_inventory)
             .join(Product, sa.and_(Product.store_id == Variant.store_id, Product.id == Variant.product_id))
             .where(Variant.id.in_(sa.bindparam("ids", expanding=True)), Product.status == "active"))
    if not images:
        return query
    own_first = sa.case((ProductImage.id == Variant.image_id, 0), else_=1)
    picture = (sa.select(ProductImage.storage_key, ProductImage.alt)  # its own image, else its product's first
               .where(sa.or_(ProductImage.id == Variant.image_id, ProductImage.product_id == Variant.product_id))
               .order_by(own_first, ProductImage.position, ProductImage.id).limit(1).lateral("picture"))
    return query.add_columns(picture.c.storage_key, picture.c.alt).outerjoin(picture, sa.true())
