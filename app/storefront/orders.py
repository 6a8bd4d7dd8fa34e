"""The shopper's order pages: the status page an order's token opens (no
login needed: the token is the key, like the receipt's link), and where a
shopper comes back to from 3-D Secure."""
from __future__ import annotations

from flask import redirect

from app.cart import web
from app.checkout import saga
from app.orders import service as orders
from app.payments.gateway import PaymentError
from app.storefront import bp
from app.storefront.personal import personal_page, private, shop_site


@bp.get("/orders/<token>")
def order_status(token: str):
    shop_site()
    order = orders.by_token(token)
    return personal_page("order.html", order=order, lines=orders.lines_of(order.id),
                         shipments=orders.shipments_of(order.id),
                         events=[e for e in orders.events_of(order.id) if e.kind != "note"],
                         page_title=f"Order {order.name}")


@bp.get("/checkout/return/<token>")
def checkout_return(token: str):
    """Back from the bank's 3-D Secure page: settle the order by what the PSP says now."""
    shop_site()
    order = orders.by_token(token)
    try:
        saga.resume(order, web.request_owner(create=False))
    except PaymentError:
        pass  # the PSP is away: the order page says the payment is pending; the webhook settles it later
    return private(redirect(f"/orders/{order.token}", 303))
