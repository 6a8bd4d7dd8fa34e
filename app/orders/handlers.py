"""Mails an order sends once it is confirmed: the receipt to the shopper,
"you have a new order" to the store's owner and admins. One row per call,
so a retried failure never sends another order's mail twice."""
from __future__ import annotations

import sqlalchemy as sa

from app.effects import handler
from app.extensions import db
from app.money import format_money
from app.notifications.service import send_email
from app.orders.events import ORDER_CONFIRMED
from app.orders.models import Order
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
