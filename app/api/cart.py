"""The cart as JSON, for headless shops and apps.

    GET    /api/v1/cart                 the cart (empty when there is none yet)
    POST   /api/v1/cart/items           {"variant_id", "quantity"}: add; 201
    PATCH  /api/v1/cart/items/<line>    {"quantity"}: set (0 removes)
    DELETE /api/v1/cart/items/<line>    remove
    DELETE /api/v1/cart                 empty the cart (its holds are released)

The cart is named by the X-Cart-Token header (or the storefront's cookie);
every answer sends the current token back in X-Cart-Token and in the body.
Writes take JSON only (a cross-site form cannot send it without the
browser asking first). A shortage is a 409 naming the line and how many
units the cart could hold.
"""
from __future__ import annotations

from flask import g, jsonify, request

from app.api import bp
from app.api.errors import ApiError, ApiErrorCode
from app.cart import service as carts
from app.cart import web
from app.cart.errors import Shortage
from app.cart.service import CartView
from app.catalog.images import url as image_address
from app.parse import MAX_ID
from app.storefront.launch_view import request_pass


@bp.errorhandler(Shortage)
def shortage(error: Shortage):
    body = {"code": error.code.value, "message": error.message, "line": str(error.variant_id),
            "variant_id": error.variant_id, "available": error.available}
    return web.keep_token(jsonify(error=body), refused=True), 409


@bp.get("/cart")
def show_cart():
    owner = web.request_owner(create=False)
    cart = carts.view(owner, g.store.currency) if owner else CartView((), g.store.currency)
    return _answer(cart)


@bp.post("/cart/items")
def add_item():
    body = _json_body()
    variant_id = _integer(body, "variant_id", minimum=1, maximum=MAX_ID)
    quantity = carts.quantity_of(_integer(body, "quantity", minimum=1, maximum=carts.MAX_LINE_QUANTITY,
                                          default=1), minimum=1)
    web.refuse_cross_site()
    owner = web.request_owner(create=True)
    return _answer(carts.add_and_view(owner, variant_id, quantity, g.store.currency, pass_token=request_pass()), 201)


@bp.patch("/cart/items/<line>")
def change_item(line: str):
    variant_id = _line(line)
    quantity = _integer(_json_body(), "quantity", minimum=0, maximum=carts.MAX_LINE_QUANTITY)
    web.refuse_cross_site()
    owner = _owner()
    carts.set_quantity(owner, variant_id, quantity, pass_token=request_pass())
    return _answer(carts.view(owner, g.store.currency))


@bp.delete("/cart/items/<line>")
def remove_item(line: str):
    variant_id = _line(line)
    web.refuse_cross_site()
    owner = _owner()
    carts.remove(owner, variant_id)
    return _answer(carts.view(owner, g.store.currency))


@bp.delete("/cart")
def empty_cart():
    web.refuse_cross_site()
    owner = _owner()
    carts.empty(owner)
    return _answer(carts.view(owner, g.store.currency))


def _owner():
    owner = web.request_owner(create=False)
    if owner is None:
        raise ApiError(ApiErrorCode.NOT_FOUND, "There is no cart: send its X-Cart-Token.", status=404)
    return owner


def _line(line: str) -> int:
    if not line.isascii() or not line.isdigit() or len(line) > 19 or not 1 <= int(line) <= MAX_ID:
        raise ApiError(ApiErrorCode.NOT_FOUND, "That item is not in your cart.", status=404)
    return int(line)


def _json_body() -> dict:
    if not request.is_json:
        raise ApiError(ApiErrorCode.INVALID_PARAMETER, "Send a JSON object (Content-Type: application/json).",
                       status=415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(ApiErrorCode.INVALID_PARAMETER, "The body must be a JSON object.", status=400)
    return body


def _integer(body: dict, name: str, *, minimum: int, maximum: int, default: int | None = None) -> int:
    value = body.get(name, default)
    if value is None:
        raise ApiError(ApiErrorCode.INVALID_PARAMETER, f"`{name}` is required.", status=400, parameter=name)
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ApiError(ApiErrorCode.INVALID_PARAMETER,
                       f"`{name}` must be a whole number between {minimum:,} and {maximum:,}.", status=400,
                       parameter=name)
    return value


def _answer(cart: CartView, status: int = 200):
    body = {"cart": cart_json(cart, web.current_token())}
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "private, no-store"
    return web.keep_token(response)


def cart_json(cart: CartView, token: str | None) -> dict:
    currency = cart.currency
    return {
        "token": token,
        "currency": currency,
        "item_count": cart.item_count,
        "subtotal": {"amount": cart.subtotal, "currency": currency},
        "held_until": cart.held_until.isoformat() if cart.held_until else None,
        "notices": list(cart.notices),
        "lines": [{
            "id": line.id,
            "variant_id": line.item.variant_id,
            "product_id": line.item.product_id,
            "product_handle": line.item.product_handle,
            "title": line.item.title,
            "sku": line.item.sku,
            "image": image_address(line.item.image_key) if line.item.image_key else None,
            "quantity": line.quantity,
            "unit_price": {"amount": line.unit_price, "currency": currency},
            "price_when_added": {"amount": line.added_price, "currency": currency},
            "price_changed": line.price_changed,
            "total": {"amount": line.total, "currency": currency},
            "held_until": line.held_until.isoformat() if line.held_until else None,
        } for line in cart.lines],
    }
