"""The shopper's cart on the storefront: the cart page, add to cart from a
product page, quantity and remove, and the header's item count.

Everything works as plain forms (a change answers with a redirect to the
cart); with htmx the product page's status line and the cart swap in place,
and `HX-Trigger: cart-changed` tells the header to fetch its new count.
A refusal (409 for a shortage, naming the line and what is left) comes back
in the same place with its status.
"""
from __future__ import annotations

import logging

from flask import Response, flash, g, get_flashed_messages, redirect, request
from redis import RedisError

from app.cart import service as carts
from app.cart import web
from app.cart.errors import CartError, CartErrorCode
from app.cart.storage import Owner
from app.extensions import RedisUnavailable, csrf
from app.parse import record_id
from app.storefront import bp
from app.storefront.launch_view import request_pass
from app.storefront.personal import personal_page, private, shop_site

CHANGED = {"HX-Trigger": "cart-changed"}
log = logging.getLogger(__name__)


def _htmx() -> bool:
    return bool(request.headers.get("HX-Request"))


def _cart_view() -> carts.CartView:
    owner = web.request_owner(create=False)
    return carts.view(owner, g.store.currency) if owner else carts.CartView((), g.store.currency)


def _answer(response: Response, *, refused: bool = False) -> Response:
    return web.keep_token(private(response), refused=refused)


def _cart_page(status: int = 200, error: str | None = None, headers: dict | None = None,
               error_url: str | None = None) -> Response:
    return personal_page("cart.html", status, headers, cart=_cart_view(), error=error, error_url=error_url,
                         page_title="Your cart",
                         notices=get_flashed_messages(category_filter=["cart"]))


@bp.errorhandler(CartError)
def cart_refused(error: CartError):
    """A refused change: on the cart (or the product page's status line, with htmx), with its status."""
    if error.code is CartErrorCode.BAD_TOKEN:
        g.cart_owner = None
        response = personal_page("cart_status.html" if _htmx() else "cart.html", 400, error=error.message,
                                 cart=carts.CartView((), g.store.currency), page_title="Your cart")
        return web.forget_token(response)
    if _htmx() and request.endpoint == "storefront.add_to_cart":
        return _answer(personal_page("cart_status.html", error.status, error=error.message, error_url=error.url),
                       refused=True)
    return _answer(_cart_page(error.status, error.message, error_url=error.url), refused=True)


@bp.get("/cart")
def cart():
    shop_site()
    return _answer(_cart_page())


@bp.get("/cart/count")
def cart_count():
    """The header's count (pages are cached for everyone, so it is fetched on its own)."""
    shop_site()
    owner = web.request_owner(create=False)
    count = carts.item_count(owner) if owner else 0
    return _answer(personal_page("snippets/cart_count.html", item_count=count))


@csrf.exempt
@bp.post("/cart/add")
def add_to_cart():
    shop_site()
    web.refuse_cross_site()
    variant_id = record_id(request.form.get("variant_id"), field="variant_id", label="The product option")
    quantity = carts.quantity_of(request.form.get("quantity") or "1", minimum=1)
    owner = web.request_owner(create=True)
    line = carts.add(owner, variant_id, quantity, pass_token=request_pass())
    if not _htmx():
        return _answer(redirect(shop_site().routes.prefix + "/cart", 303))
    count = carts.item_count(owner)
    return _answer(personal_page("cart_status.html", 200, CHANGED, added=line.quantity, item_count=count))


@csrf.exempt
@bp.post("/cart/lines/<int:variant_id>")
def change_line(variant_id: int):
    shop_site()
    web.refuse_cross_site()
    quantity = carts.quantity_of(request.form.get("quantity"), minimum=0)
    owner = _existing_owner()
    carts.set_quantity(owner, variant_id, quantity, pass_token=request_pass())
    return _after_change()


@csrf.exempt
@bp.post("/cart/lines/<int:variant_id>/remove")
def remove_line(variant_id: int):
    shop_site()
    web.refuse_cross_site()
    carts.remove(_existing_owner(), variant_id)
    return _after_change()


@csrf.exempt
@bp.post("/cart/clear")
def empty_cart():
    shop_site()
    web.refuse_cross_site()
    carts.empty(_existing_owner())
    return _after_change()


def _existing_owner() -> Owner:
    owner = web.request_owner(create=False)
    if owner is None:
        raise CartError(CartErrorCode.NOT_FOUND, "Your cart is empty.", "line", status=404)
    return owner


def _after_change() -> Response:
    if _htmx():
        return _answer(_cart_page(headers=CHANGED))
    return _answer(redirect(shop_site().routes.prefix + "/cart", 303))


def merged_on_login(customer_id: int, response: Response) -> Response:
    """After a log-in: the guest's cart joins the customer's, and the guest
    cookie goes. A cart problem (Redis away, a change in flight) never fails
    the log-in: the guest cart stays for the next one. What was capped is told."""
    guest = web.guest_owner()
    if guest is None:
        return response
    try:
        notices = carts.merge(guest, Owner.customer(g.store.id, customer_id))
    except (CartError, RedisError, RedisUnavailable) as problem:
        log.warning("the guest cart was not merged on log-in: %s", problem)
        return response
    for notice in notices:
        flash(notice, "cart")
    return web.forget_token(response)
