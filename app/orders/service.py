"""Orders: made pending by the checkout, confirmed once paid for (or, for a
manual payment, once placed), failed when the payment was declined.

Each change is one transaction that also writes the order's timeline and
records its side effects (mails, merchant webhooks) through app.effects, so
they happen only if it commits. Changes are idempotent: confirming a
confirmed order, or failing a failed one, changes nothing.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum

import sqlalchemy as sa

from app.domain_errors import DomainError
from app.effects import emit
from app.extensions import db
from app.inventory import reservations
from app.orders.events import ORDER_CONFIRMED
from app.orders.models import FIRST_NUMBER, Order, OrderEvent, OrderLine, Shipment
from app.orders.presenter import order_json
from app.payments.models import Payment
from app.webhooks import events as webhooks
from tenants.session import tenant_engine

NUMBER_LOCK = 7_301  # advisory-lock namespace: (NUMBER_LOCK, store id) while an order takes its number


class OrderErrorCode(str, Enum):
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    ILLEGAL = "illegal_transition"
    PAYMENT = "payment"


class OrderError(DomainError):
    pass


@dataclass(frozen=True)
class DraftLine:
    variant_id: int
    product_id: int
    title: str
    variant_title: str
    sku: str
    quantity: int
    unit_price: int
    tracked: bool
    discount: int = 0
    tax: int = 0


@dataclass(frozen=True)
class Draft:
    """What the checkout priced: the order to make."""

    email: str
    customer_id: int | None
    currency: str
    lines: tuple[DraftLine, ...]
    subtotal: int
    discount_total: int
    shipping_total: int
    tax_total: int
    total: int
    prices_include_tax: bool
    tax_lines: tuple[dict, ...]
    discount_code: str | None
    shipping_method: str | None
    shipping_address: dict | None
    billing_address: dict | None
    payment_method: str  # card | manual
    cart_holder: str
    client_ip: str | None


def new_token() -> str:
    return secrets.token_urlsafe(18)[:24]


def create_pending(draft: Draft, *, commit: bool = True) -> Order:
    """The order, pending payment, with its lines and its first event."""
    token = new_token()
    order = Order(token=token, email=draft.email, customer_id=draft.customer_id, currency=draft.currency,
                  subtotal=draft.subtotal, discount_total=draft.discount_total, shipping_total=draft.shipping_total,
                  tax_total=draft.tax_total, total=draft.total, prices_include_tax=draft.prices_include_tax,
                  tax_lines=list(draft.tax_lines), discount_code=draft.discount_code,
                  shipping_method=draft.shipping_method, shipping_address=draft.shipping_address,
                  billing_address=draft.billing_address, payment_method=draft.payment_method,
                  holder=f"order:{token}", cart_holder=draft.cart_holder, client_ip=draft.client_ip)
    db.session.add(order)
    db.session.flush()
    db.session.add_all([OrderLine(order_id=order.id, variant_id=line.variant_id, product_id=line.product_id,
                                  title=line.title, variant_title=line.variant_title, sku=line.sku,
                                  quantity=line.quantity, unit_price=line.unit_price,
                                  total=line.quantity * line.unit_price, discount=line.discount, tax=line.tax,
                                  tracked=line.tracked) for line in draft.lines])
    _event(order, "placed", "The shopper placed the order; payment pending.", draft.email)
    if commit:
        db.session.commit()
    return order


def confirm(order_id: int, *, payment_status: str, actor: str, message: str, commit: bool = True) -> Order:
    """Paid for (authorized), or a manual payment placed: the held stock is
    sold, the order takes its number, and the mails and webhooks follow
    (commits, unless the caller's transaction goes on: the checkout stores
    its answer with it). Raises reservations.Shortage (nothing changed) when
    stock could not be had."""
    order = _locked(order_id)
    if order.status != "pending_payment":
        if commit:
            db.session.commit()
        return order
    lines = order.lines
    wanted = {}
    for line in lines:
        if line.tracked and line.variant_id is not None:
            wanted[line.variant_id] = wanted.get(line.variant_id, 0) + line.quantity
    sold = reservations.sell(order.holder, wanted, actor=actor)
    for line in lines:
        line.locations = [list(pair) for pair in sold.get(line.variant_id, [])]
    order.number = _next_number()
    order.status, order.payment_status = "confirmed", payment_status
    order.confirmed_at = datetime.now(timezone.utc)
    _event(order, "confirmed", message, actor)
    emit(ORDER_CONFIRMED, order_id=order.id)
    db.session.flush()
    body = {"order": order_json(order)}
    webhooks.publish("orders/create", body)
    if payment_status in ("authorized", "paid"):
        webhooks.publish("orders/paid", body)
    if commit:
        db.session.commit()
    return order


def fail(order_id: int, *, message: str, actor: str) -> Order:
    """The payment was declined (or could not be made): the order is
    payment_failed and its held stock goes back to the shopper's cart."""
    order = _locked(order_id)
    if order.status != "pending_payment":
        db.session.commit()
        return order
    order.status, order.payment_status = "payment_failed", "failed"
    _event(order, "payment_failed", message, actor)
    db.session.commit()
    if order.cart_holder:
        reservations.transfer(order.holder, order.cart_holder)
    else:
        reservations.release(order.holder)
    return order


def refuse(order: Order, *, message: str, actor: str) -> None:
    """Refused before any payment was asked (the fraud rules), in the caller's
    transaction: payment_failed from the start, its stock still the cart's."""
    order.status, order.payment_status = "payment_failed", "failed"
    _event(order, "payment_failed", message, actor)


def set_payment_status(order_id: int, status: str, *, message: str, actor: str) -> None:
    order = _locked(order_id)
    if order.payment_status != status:
        order.payment_status = status
        _event(order, "payment", message, actor)
    db.session.commit()


def by_token(token: str) -> Order:
    order = db.session.scalar(sa.select(Order).where(Order.token == token)) if _plausible(token) else None
    if order is None:
        raise OrderError(OrderErrorCode.NOT_FOUND, "No such order.", status=404)
    return order


def get(order_id: int) -> Order:
    order = db.session.scalar(sa.select(Order).where(Order.id == order_id))
    if order is None:
        raise OrderError(OrderErrorCode.NOT_FOUND, "No such order.", status=404)
    return order


def lines_of(order_id: int) -> list[OrderLine]:
    return list(db.session.scalars(sa.select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)))


def events_of(order_id: int) -> list[OrderEvent]:
    return list(db.session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order_id)
                                   .order_by(OrderEvent.id)))


def shipments_of(order_id: int) -> list[Shipment]:
    return list(db.session.scalars(sa.select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)))


def payments_of(order_id: int) -> list[Payment]:
    return list(db.session.scalars(sa.select(Payment).where(Payment.order_id == order_id).order_by(Payment.id)))


def customer_orders(customer_id: int, limit: int = 50) -> list[Order]:
    return list(db.session.scalars(sa.select(Order).where(Order.customer_id == customer_id,
                                                          Order.number.is_not(None))
                                   .order_by(Order.created_at.desc()).limit(limit)))


def _plausible(token) -> bool:
    return isinstance(token, str) and 16 <= len(token) <= 32 and token.replace("-", "").replace("_", "").isalnum()


def _locked(order_id: int) -> Order:
    order = db.session.scalar(sa.select(Order).where(Order.id == order_id).with_for_update())
    if order is None:
        raise OrderError(OrderErrorCode.NOT_FOUND, "No such order.", status=404)
    return order


def _next_number() -> int:
    """The store's next order number: one taker at a time (the lock lasts until the commit)."""
    from tenants.context import require_store

    bind = {"bind": tenant_engine(db)}
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(NUMBER_LOCK, require_store().id)),
                       bind_arguments=bind)
    last = db.session.scalar(sa.select(sa.func.max(Order.number)))
    return (last or FIRST_NUMBER - 1) + 1


def _event(order: Order, kind: str, message: str, actor: str) -> None:
    db.session.add(OrderEvent(order_id=order.id, kind=kind, message=message, actor=actor))
