"""Mails an order sends once it is confirmed: the receipt to the shopper,
"you have a new order" to the store's owner and admins. One row per call,
so a retried failure never sends another order's mail twice."""
from __future__ import annotations

import sqlalchemy as sa

from app.effects import handler
from app.extensions import db
from app.money import format_money
from app.notifications.service import send_email
from app.orders import lifecycle
from app.orders.events import ORDER_CONFIRMED, REFUNDED_MAIL, SHIPPED_MAIL
from app.orders.models import Order, Refund, Shipment
from app.orders.service import lines_of
from tenants.context import require_store
from tenants.models import Account, Membership


@handler(ORDER_CONFIRMED, queue="notifications", batch=False)
def order_confirmed_mails(payloads: list[dict]) -> None:
    store = require_store()
    for payload in payloads:
        order = db.session.scalar(sa.select(Order).where(Order.id == int(payload["order_id"])))
        if order is None:
            continue
        # One handler per topic (app.effects): the capture of an "immediately" store is asked for here, as an
        # outbox row of its own (queue "payments") committed with this row's deletion.
        lifecycle.capture_if_immediate(order.id)
        summary = _summary(order, store.locale)
        send_email([order.email], f"{store.name}: order {order.name} confirmed",
                   f"Thank you for your order.\n\n{summary}\n\nWe will email you again when it ships.\n")
        staff = list(db.session.scalars(
            sa.select(Account.email).join(Membership).where(Membership.store_id == store.id,
                                                            Membership.role.in_(("owner", "admin")))))
        if staff:
            send_email(staff, f"[{store.name}] New order {order.name}",
                       f"{order.email} placed order {order.name}.\n\n{summary}\n\n"
                       "Fulfil it from the Orders page of your Vitrine dashboard.\n")


def _summary(order: Order, locale: str) -> str:
    money = lambda amount: format_money(amount, order.currency, locale)  # noqa: E731
    lines = [f"{line.quantity} x {line.title}{' — ' + line.variant_title if line.variant_title else ''}: "
             f"{money(line.total)}" for line in lines_of(order.id)]
    totals = [f"Subtotal: {money(order.subtotal)}"]
    if order.discount_total:
        totals.append(f"Discount{' (' + order.discount_code + ')' if order.discount_code else ''}: "
                      f"-{money(order.discount_total)}")
    totals += [f"Shipping: {money(order.shipping_total)}", f"Tax: {money(order.tax_total)}",
               f"Total: {money(order.total)}"]
    return f"Order {order.name}\n\n" + "\n".join(lines) + "\n\n" + "\n".join(totals)


@handler(SHIPPED_MAIL, queue="notifications", batch=False)
def shipping_confirmation(payloads: list[dict]) -> None:
    store = require_store()
    for payload in payloads:
        order = db.session.scalar(sa.select(Order).where(Order.id == int(payload["order_id"])))
        shipment = db.session.scalar(sa.select(Shipment).where(Shipment.id == int(payload["shipment_id"])))
        if order is None or shipment is None:
            continue
        titles = {line.id: line.title for line in lines_of(order.id)}
        items = "\n".join(f"{units} x {titles.get(line_id, 'Item')}" for line_id, units in shipment.lines)
        tracking = [f"Carrier: {shipment.carrier}" if shipment.carrier else "",
                    f"Tracking number: {shipment.tracking_number}" if shipment.tracking_number else "",
                    f"Track it: {shipment.tracking_url}" if shipment.tracking_url else ""]
        send_email([order.email], f"{store.name}: order {order.name} is on its way",
                   f"Good news: items of your order {order.name} have shipped.\n\n{items}\n\n"
                   + "\n".join(part for part in tracking if part) + "\n")


@handler(REFUNDED_MAIL, queue="notifications", batch=False)
def refund_confirmation(payloads: list[dict]) -> None:
    store = require_store()
    for payload in payloads:
        order = db.session.scalar(sa.select(Order).where(Order.id == int(payload["order_id"])))
        row = db.session.scalar(sa.select(Refund).where(Refund.id == int(payload["refund_id"])))
        if order is None or row is None:
            continue
        amount = format_money(row.amount, order.currency, store.locale)
        send_email([order.email], f"{store.name}: refund of {amount} for order {order.name}",
                   f"We refunded {amount} for your order {order.name}"
                   f"{' (' + row.reason + ')' if row.reason else ''}.\n\n"
                   "It can take 5 to 10 business days to show on your statement.\n")
