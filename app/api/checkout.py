"""Checkout and orders as JSON.

    POST /api/v1/checkout        place the cart as an order and pay for it (Idempotency-Key header required)
    GET  /api/v1/orders/<token>  an order, by the opaque token the checkout answered with

The checkout's body:
    {"cart": "<cart token>" (or the X-Cart-Token header),
     "email": "...", "shipping_address": {name, line1, line2, city, region, postal_code, country, phone},
     "billing_address": {...} (optional: the shipping address),
     "shipping_method": "<id from GET /api/v1/checkout/shipping-methods>", "discount_code": "..." (optional),
     "payment_method": {"type": "card", "id": "pm_..."} or {"type": "manual"}}

Answers: 201 the order (confirmed); 202 the order and `next_action.redirect_url` (3-D Secure: send the
shopper there; they come back to the shop's order page); 402 declined, with the PSP's message; 409 a
stock problem naming the lines; 422 an expired cart, a key reused with another body, or what cannot be
priced (an address the shop does not ship to, a discount code that cannot be used); 503 the PSP is
away (try again shortly, with the same key). The same key with the same body always answers the same.
"""
from __future__ import annotations

from flask import g, jsonify, request

from app import idempotency
from app.api import bp
from app.api.errors import ApiError, ApiErrorCode, invalid_parameter
from app.cart import tokens, web
from app.cart.storage import Owner
from app.checkout import pricing, saga
from app.customers.addresses import clean_address
from app.customers.service import clean_email
from app.customers.sessions import current_customer
from app.domain_errors import DomainError
from app.orders import service as orders
from app.orders.presenter import order_json
from app.payments import gateway
from app.parse import text

@bp.post("/checkout")
def checkout():
    key = idempotency.check_key(request.headers.get("Idempotency-Key"))
    body = _json_object()
    owner = _cart_owner(body.get("cart"))
    submission = _submission(body)
    customer = current_customer()
    answer = saga.checkout(owner, customer.id if customer else None, submission, key, client_ip=request.remote_addr)
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else {}
    headers["Server-Timing"] = f"psp;dur={gateway.psp_milliseconds():.1f}"  # the PSP's share of the answer
    if answer.status == 503:
        headers["Retry-After"] = "5"
    response = jsonify(answer.body)
    response.headers["Cache-Control"] = "private, no-store"
    return response, answer.status, headers


@bp.post("/checkout/shipping-methods")
def shipping_methods():
    """The shipping methods for the cart to an address: {"shipping_address": {...}} -> options with prices."""
    body = _json_object()
    owner = _cart_owner(body.get("cart"))
    from app.cart import service as carts

    cart = carts.view(owner, g.store.currency)
    address = clean_address(_mapping(body, "shipping_address"))
    options = pricing.shipping_options(cart, address)
    return jsonify(shipping_methods=[{"id": option.id, "name": option.name,
                                      "price": {"amount": option.price, "currency": option.currency}}
                                     for option in options])


@bp.get("/orders/<token>")
def show_order(token: str):
    order = orders.by_token(token)
    response = jsonify(order=order_json(order))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _submission(body: dict) -> saga.Submission:
    payment = _mapping(body, "payment_method")
    kind = payment.get("type")
    if kind not in ("card", "manual"):
        raise invalid_parameter("payment_method", "`payment_method.type` must be \"card\" or \"manual\".")
    method = None
    if kind == "card":
        method = payment.get("id")
        if not gateway.is_payment_method_id(method):
            raise invalid_parameter("payment_method", "`payment_method.id` must be a card's PaymentMethod id (pm_…).")
    billing = body.get("billing_address")
    return saga.Submission(
        email=_email(body.get("email")),
        shipping_address=clean_address(_mapping(body, "shipping_address")),
        billing_address=clean_address(billing) if isinstance(billing, dict) else None,
        shipping_option=_optional_text(body, "shipping_method", 40),
        discount_code=_optional_text(body, "discount_code", 64),
        payment=kind, payment_method=method)


def _cart_owner(raw) -> Owner:
    if raw is not None:
        if not isinstance(raw, str):
            raise invalid_parameter("cart", "`cart` must be the cart's token.")
        return tokens.read(raw, g.store.id)
    owner = web.request_owner(create=False)
    if owner is None:
        raise ApiError(ApiErrorCode.NOT_FOUND, "There is no cart: send its token as `cart` or X-Cart-Token.",
                       status=404)
    return owner


def _email(raw) -> str:
    try:
        return clean_email(raw)
    except DomainError:
        raise invalid_parameter("email", "`email` must be an email address.") from None


def _optional_text(body: dict, name: str, max_length: int) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid_parameter(name, f"`{name}` must be a string.")
    return text(value, field=name, label=name, max_length=max_length) or None


def _mapping(body: dict, name: str) -> dict:
    value = body.get(name)
    if not isinstance(value, dict):
        raise invalid_parameter(name, f"`{name}` must be a JSON object.")
    return value


def _json_object() -> dict:
    if not request.is_json:
        raise ApiError(ApiErrorCode.INVALID_PARAMETER, "Send a JSON object (Content-Type: application/json).",
                       status=415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError(ApiErrorCode.INVALID_PARAMETER, "The body must be a JSON object.", status=400)
    return body
