"""Discount codes: checking one for an order, counting its uses safely
under concurrent checkouts, and the dashboard's writes.

Checkout calls, in order: `check` (a clear DiscountError for the shopper,
nothing written), then, in the transaction that places the order,
`redeem`; `release` when the order is cancelled or its payment fails.

Concurrency (`redeem`): the total limit is one conditional UPDATE (`uses =
uses + 1 WHERE usage_limit IS NULL OR uses < usage_limit`), so PostgreSQL
never lets it pass the limit; the per-customer limit is counted under a
transaction-level advisory lock on (store, code, customer), so two
checkouts of one customer at once count one after the other. Both need
the caller's transaction to be READ COMMITTED (the default): the count after
the lock must see what the previous holder committed.

A customer is `customer_key(customer_id, email)`: "customer:<id>" for an
account, "email:<address>" for a guest.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone

import sqlalchemy as sa

from app import parse
from app.checkout.errors import (DiscountError, DiscountErrorCode as Why, PricingError, PricingErrorCode as Code,
                                 collect, not_found)
from app.checkout.models import (DISCOUNT_KINDS, MAX_DISCOUNTS, MAX_USES, Discount, DiscountCode,
                                 DiscountRedemption, utcnow)
from app.checkout.shipping import money
from app.checkout.taxes import parse_percent
from app.extensions import db
from app.launches.service import parse_moment
from app.money import format_money
from app.pagination import Page, paginate
from app.store import service as store_service
from app.store.limits import count_for_insert
from tenants.context import require_store
from tenants.session import tenant_engine

REDEEM_LOCK = 7_301  # advisory-lock namespace: (REDEEM_LOCK, hash of store, code and customer)
_CODE = re.compile(r"[A-Za-z0-9_-]{1,40}")
MAX_ORDER_REF = 100


def customer_key(customer_id: int | None, email: str | None = None) -> str:
    """Who a per-customer limit counts: the account, else the guest's email (lower case)."""
    if customer_id is not None:
        return f"customer:{int(customer_id)}"
    return f"email:{(email or '').strip().lower()}"


def terms_of(row: DiscountCode) -> Discount:
    return Discount(row.id, row.code, row.kind, row.value, row.minimum_subtotal)


def _amount(minor: int) -> str:
    store = require_store()
    return format_money(minor, store.currency, store.locale)


def _when(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%d %b %Y, %H:%M UTC")


# -- checking and redeeming (checkout) --------------------------------------------------------------------------------

def find(code: str) -> DiscountCode | None:
    cleaned = str(code or "").strip()
    if not _CODE.fullmatch(cleaned):
        return None
    return db.session.scalar(sa.select(DiscountCode).where(sa.func.lower(DiscountCode.code) == cleaned.lower()))


def check(code: str, subtotal: int, customer_key: str, now: datetime | None = None) -> Discount:
    """The code's terms if this order can use it; else a DiscountError saying why. Writes nothing."""
    now = now or utcnow()
    row = find(code)
    if row is None:
        raise DiscountError(Why.UNKNOWN, f"“{str(code or '').strip()[:40]}” is not a discount code of this store.",
                            "discount_code")
    refusal = _refusal(row, now)
    if refusal is not None:
        raise refusal
    if subtotal < row.minimum_subtotal:
        raise DiscountError(Why.BELOW_MINIMUM, f"{row.code} needs a subtotal of at least "
                            f"{_amount(row.minimum_subtotal)}: add {_amount(row.minimum_subtotal - subtotal)} more.",
                            "discount_code")
    if _over_customer_limit(row, customer_key):
        raise _already_used(row)
    return terms_of(row)


def _refusal(row: DiscountCode, now: datetime) -> DiscountError | None:
    """Why the code cannot be used at `now` by anyone (None: it can)."""
    if not row.active:
        return DiscountError(Why.INACTIVE, f"{row.code} can no longer be used.", "discount_code")
    if row.starts_at is not None and now < row.starts_at:
        return DiscountError(Why.NOT_STARTED, f"{row.code} can be used from {_when(row.starts_at)}.", "discount_code")
    if row.ends_at is not None and now >= row.ends_at:
        return DiscountError(Why.EXPIRED, f"{row.code} expired on {_when(row.ends_at)}.", "discount_code")
    if row.usage_limit is not None and row.uses >= row.usage_limit:
        return DiscountError(Why.USED_UP, f"{row.code} has been used up.", "discount_code")
    return None


def _over_customer_limit(row: DiscountCode, key: str) -> bool:
    if row.per_customer_limit is None:
        return False
    used = db.session.scalar(sa.select(sa.func.count()).select_from(DiscountRedemption).where(
        DiscountRedemption.discount_id == row.id, DiscountRedemption.customer_key == key))
    return used >= row.per_customer_limit


def _already_used(row: DiscountCode) -> DiscountError:
    times = "once" if row.per_customer_limit == 1 else f"{row.per_customer_limit} times"
    return DiscountError(Why.ALREADY_USED, f"You have already used {row.code}: it can be used {times} per customer.",
                         "discount_code")


def redeem(discount_id: int, customer_key: str, order_ref: str, now: datetime | None = None) -> None:
    """Count one use of the code by this order, in the caller's transaction (the caller commits). A
    DiscountError (used up, already used by this customer, no longer valid) leaves the caller's
    transaction as it was. Redeeming the same order again is a no-op."""
    now = now or utcnow()
    if not order_ref or len(order_ref) > MAX_ORDER_REF or len(customer_key) > 320:
        raise PricingError(Code.INVALID, f"An order reference is 1 to {MAX_ORDER_REF} characters, a customer key "
                           "at most 320.")
    with db.session.begin_nested():
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(REDEEM_LOCK, sa.func.hashtext(
            f"{require_store().id}:{int(discount_id)}:{customer_key}"))), bind_arguments={"bind": tenant_engine(db)})
        earlier = db.session.scalar(sa.select(DiscountRedemption.discount_id)
                                    .where(DiscountRedemption.order_ref == order_ref))
        if earlier == discount_id:
            return
        if earlier is not None:
            raise PricingError(Code.TAKEN, "This order already uses another discount code.", "discount_code",
                               status=409)
        row = db.session.scalar(sa.select(DiscountCode).where(DiscountCode.id == discount_id)
                                .execution_options(populate_existing=True))
        if row is None:
            raise DiscountError(Why.UNKNOWN, "That discount code no longer exists.", "discount_code")
        if _over_customer_limit(row, customer_key):
            raise _already_used(row)
        if not _count_use(row, now):
            db.session.refresh(row)
            raise _refusal(row, now) or DiscountError(Why.USED_UP, f"{row.code} has been used up.", "discount_code")
        db.session.add(DiscountRedemption(discount_id=row.id, customer_key=customer_key, order_ref=order_ref))
        db.session.flush()


def _count_use(row: DiscountCode, now: datetime) -> bool:
    """The one conditional UPDATE that keeps the total within the limit, however many redeem at once."""
    counted = db.session.execute(
        sa.update(DiscountCode)
        .where(DiscountCode.id == row.id, DiscountCode.active,
               sa.or_(DiscountCode.starts_at.is_(None), DiscountCode.starts_at <= now),
               sa.or_(DiscountCode.ends_at.is_(None), DiscountCode.ends_at > now),
               sa.or_(DiscountCode.usage_limit.is_(None), DiscountCode.uses < DiscountCode.usage_limit))
        .values(uses=DiscountCode.uses + 1)
        .execution_options(synchronize_session=False)).rowcount
    return counted == 1


def release(order_ref: str) -> bool:
    """Undo the order's redemption (cancelled, payment failed), in the caller's transaction. Idempotent:
    True if there was one to undo."""
    discount_id = db.session.scalar(sa.delete(DiscountRedemption)
                                    .where(DiscountRedemption.order_ref == str(order_ref))
                                    .returning(DiscountRedemption.discount_id))
    if discount_id is None:
        return False
    db.session.execute(sa.update(DiscountCode).where(DiscountCode.id == discount_id, DiscountCode.uses > 0)
                       .values(uses=DiscountCode.uses - 1).execution_options(synchronize_session=False))
    return True


# -- the dashboard ----------------------------------------------------------------------------------------------------

def discounts_page(page: int, per_page: int = 50) -> Page:
    query = sa.select(DiscountCode).order_by(DiscountCode.created_at.desc(), DiscountCode.id.desc())
    return paginate(query, page=page, per_page=per_page)


def get(discount_id: int, *, for_update: bool = False) -> DiscountCode:
    query = sa.select(DiscountCode).where(DiscountCode.id == discount_id)
    row = db.session.scalar(query.with_for_update() if for_update else query)
    if row is None:
        raise not_found("No such discount code in this store.")
    return row


def _code(raw) -> str:
    code = parse.text(raw, field="code", label="The code", max_length=40, required=True)
    if not _CODE.fullmatch(code):
        raise parse.bad("The code can have letters A–Z, digits, - and _ only (no spaces).", "code")
    return code


def _value(form: Mapping, kind: str):
    if kind == "percentage":
        value = parse_percent(form.get("value"), field="value", label="The percentage")
        if value < 1:
            raise parse.bad("The percentage must be more than 0.", "value")
        return value
    if kind == "fixed":
        value = money(form.get("value"), field="value", label="The amount")
        if value < 1:
            raise parse.bad("The amount must be more than 0.", "value")
        return value
    return 0


def _limit(form: Mapping, name: str, label: str) -> int | None:
    return parse.whole_number(form.get(name), field=name, label=label, minimum=1, maximum=MAX_USES)


def _fields(form: Mapping) -> dict:
    kind = str(form.get("kind") or "")
    values = collect({
        "code": lambda: _code(form.get("code")),
        "kind": lambda: kind if kind in DISCOUNT_KINDS else _bad("Choose what the code gives.", "kind"),
        "value": lambda: _value(form, kind),
        "minimum_subtotal": lambda: money(form.get("minimum_subtotal"), field="minimum_subtotal",
                                          label="The minimum subtotal", required=False) or 0,
        "starts_at": lambda: parse_moment(form.get("starts_at"), field="starts_at", label="The start",
                                          required=False),
        "ends_at": lambda: parse_moment(form.get("ends_at"), field="ends_at", label="The end", required=False),
        "usage_limit": lambda: _limit(form, "usage_limit", "The total limit"),
        "per_customer_limit": lambda: _limit(form, "per_customer_limit", "The limit per customer"),
    })
    if values["starts_at"] and values["ends_at"] and values["ends_at"] <= values["starts_at"]:
        raise parse.bad("The end must come after the start.", "ends_at")
    values["active"] = parse.checkbox(form, "active")
    return values


def _bad(message: str, field: str):
    raise parse.bad(message, field)


def create(form: Mapping, actor: str) -> DiscountCode:
    values = _fields(form)
    if count_for_insert(DiscountCode) >= MAX_DISCOUNTS:
        raise PricingError(Code.LIMIT_REACHED, f"A store can have {MAX_DISCOUNTS:,} discount codes.", "code",
                           status=409)
    row = DiscountCode(created_by=actor, **values)
    _save(row)
    store_service.record(actor, "discounts.created", f"Added the discount code {row.code}")
    db.session.commit()
    return row


def update(discount_id: int, form: Mapping, actor: str) -> DiscountCode:
    values = _fields(form)
    row = get(discount_id, for_update=True)
    if values["usage_limit"] is not None and values["usage_limit"] < row.uses:
        raise parse.bad(f"{row.code} has been used {row.uses:,} times: the total limit cannot be lower.",
                        "usage_limit")
    for name, value in values.items():
        setattr(row, name, value)
    _save(row)
    store_service.record(actor, "discounts.updated", f"Changed the discount code {row.code}")
    db.session.commit()
    return row


def _save(row: DiscountCode) -> None:
    clash = sa.select(DiscountCode.id).where(sa.func.lower(DiscountCode.code) == row.code.lower())
    if row.id:
        clash = clash.where(DiscountCode.id != row.id)
    with db.session.no_autoflush:
        taken = db.session.scalar(clash) is not None
    message = f"The store already has the code {row.code} (codes are the same in any case)."
    if taken:
        raise PricingError(Code.TAKEN, message, "code", status=409)
    db.session.add(row)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # the same code saved at the same moment
        db.session.rollback()
        raise PricingError(Code.TAKEN, message, "code", status=409) from None


def deactivate(discount_id: int, actor: str) -> DiscountCode:
    row = get(discount_id, for_update=True)
    if row.active:
        row.active = False
        store_service.record(actor, "discounts.deactivated", f"Deactivated the discount code {row.code}")
    db.session.commit()
    return row


def delete(discount_id: int, actor: str) -> None:
    """Only a code no order used: a used one is part of those orders' record (deactivate it instead)."""
    row = get(discount_id, for_update=True)
    used = db.session.scalar(sa.select(sa.exists().where(DiscountRedemption.discount_id == row.id)))
    if row.uses or used:
        raise PricingError(Code.IN_USE, f"{row.code} has been used, so it stays on record: deactivate it instead.",
                           status=409)
    db.session.delete(row)
    store_service.record(actor, "discounts.deleted", f"Deleted the discount code {row.code}")
    db.session.commit()
