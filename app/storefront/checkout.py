"""The storefront's checkout, in steps: contact and address -> shipping
method (and a discount code) -> review and pay. Each step is a plain form
(it works without JavaScript); htmx boosts them so steps change in place.
What the shopper chose is kept in their session until the order is made.

The card itself never reaches us: the payment step's script sends the card
fields to the PSP (Stripe's API, or the emulator) with the publishable key,
as Stripe.js does, and posts only the PaymentMethod id it gets back.
Without JavaScript the card cannot be tokenized, and the page says so (a
manual payment still works).
"""
from __future__ import annotations

import uuid

from flask import current_app, g, redirect, request, session, url_for

from app.cart import service as carts
from app.cart import web
from app.checkout import pricing, saga
from app.customers.addresses import FIELDS as ADDRESS_FIELDS, addresses, clean_address, countries
from app.customers.service import clean_email
from app.customers.sessions import current_customer
from app.domain_errors import DomainError
from app.idempotency import IdempotencyError, check_key
from app.payments import gateway
from app.parse import text
from app.storefront import bp
from app.storefront.personal import personal_page, private, shop_site

KEY = "checkout"


def _draft() -> dict:
    saved = session.get(KEY)
    return saved if isinstance(saved, dict) and saved.get("store") == g.store.id else {"store": g.store.id}


def _save(**values) -> None:
    session[KEY] = {**_draft(), **values}


def _cart():
    owner = web.request_owner(create=False)
    cart = carts.view(owner, g.store.currency) if owner else carts.CartView((), g.store.currency)
    return owner, cart


def _page(step: str, status: int = 200, **page):
    owner, cart = _cart()
    if not cart.lines:
        return private(redirect(shop_site().routes.cart(), 303))
    draft = _draft()
    urls = {name: url_for(f"storefront.checkout_{name}") for name in ("start", "contact", "shipping", "pay")}
    return personal_page("checkout.html", status, step=step, cart=cart, draft=draft, urls=urls,
                         countries=countries(), page_title="Checkout", **page)


@bp.get("/checkout")
def checkout_start():
    """The first step; a customer's saved address fills it (the default one, or `?address=<id>` of theirs)."""
    shop_site()
    customer = current_customer()
    saved = addresses(customer) if customer else []
    chosen = request.args.get("address", "")
    picked = next((a for a in saved if chosen.isdigit() and len(chosen) < 19 and a.id == int(chosen)), None)
    if picked is None and not _draft().get("address"):
        picked = next((a for a in saved if a.is_default), None)
    if picked is not None:
        _save(email=_draft().get("email") or customer.email,
              address={field: getattr(picked, field) or "" for field in ADDRESS_FIELDS})
    return _page("contact", saved_addresses=saved)


@bp.post("/checkout/contact")
def checkout_contact():
    shop_site()
    errors, email, address = {}, None, None
    try:
        email = clean_email(request.form.get("email"))
    except DomainError as bad:
        errors["email"] = bad.message
    try:
        address = clean_address(request.form)
    except DomainError as bad:
        errors.update(getattr(bad, "errors", None) or {bad.field or "address": bad.message})
    if errors:
        return _page("contact", 422, errors=errors, form=request.form)
    _save(email=email, address=address, shipping=None)
    return private(redirect(url_for("storefront.checkout_shipping"), 303))


@bp.route("/checkout/shipping", methods=["GET", "POST"])
def checkout_shipping():
    shop_site()
    draft = _draft()
    if not draft.get("address"):
        return private(redirect(url_for("storefront.checkout_start"), 303))
    _, cart = _cart()
    options = pricing.shipping_options(cart, draft["address"]) if cart.lines else []
    if request.method == "GET":
        return _page("shipping", options=options)
    chosen = request.form.get("shipping_option", "")
    if chosen not in {option.id for option in options}:
        message = "Choose a shipping method." if options else "Sorry, this shop does not ship to that address."
        return _page("shipping", 422, options=options, errors={"shipping_option": message})
    code = request.form.get("discount_code", "")
    try:
        code = text(code, field="discount_code", label="Discount code", max_length=64) or None
    except DomainError as bad:
        return _page("shipping", 422, options=options, errors={"discount_code": bad.message})
    _save(shipping=chosen, discount=code)
    return private(redirect(url_for("storefront.checkout_payment"), 303))


@bp.get("/checkout/payment")
def checkout_payment():
    shop_site()
    return _payment_page()


@bp.post("/checkout/pay")
def checkout_pay():
    shop_site()
    draft = _draft()
    owner, cart = _cart()
    if owner is None or not cart.lines:
        return private(redirect(shop_site().routes.cart(), 303))
    try:
        key = check_key(request.form.get("idempotency_key"))
    except IdempotencyError as bad:
        return _payment_page(400, error=bad.message)
    kind = request.form.get("payment", "card")
    method = request.form.get("payment_method", "")
    if kind == "card" and not gateway.is_payment_method_id(method):
        return _payment_page(422, error="Card payments need JavaScript to send your card to our payment "
                                        "provider securely. Turn it on, or choose another way to pay.")
    if kind not in ("card", "manual"):
        return _payment_page(422, error="Choose a way to pay.")
    submission = saga.Submission(email=draft.get("email", ""), shipping_address=draft.get("address") or {},
                                 billing_address=None, shipping_option=draft.get("shipping"),
                                 discount_code=draft.get("discount"), payment=kind,
                                 payment_method=method if kind == "card" else None)
    if not submission.email or not submission.shipping_address:
        return private(redirect(url_for("storefront.checkout_start"), 303))
    customer = current_customer()
    answer = saga.checkout(owner, customer.id if customer else None, submission, key, client_ip=request.remote_addr)
    return _after_paying(answer)


def _after_paying(answer):
    body = answer.body
    if answer.status in (200, 201):
        session.pop(KEY, None)
        return private(redirect(url_for("storefront.order_status", token=body["order"]["token"]), 303))
    if answer.status == 202:  # 3-D Secure: a page that sends the shopper on to their bank
        return personal_page("checkout_bank.html", bank_url=body["next_action"]["redirect_url"],
                             page_title="Confirm with your bank")
    if answer.status == 409 and body["error"]["code"] == "shortage":
        return private(redirect(shop_site().routes.cart(), 303))
    message = body["error"]["message"]
    if answer.status == 503:
        message = "We could not reach our payment provider. Please try again shortly; you were not charged."
    return _payment_page(answer.status if answer.status < 500 else 503, error=message)


def _payment_page(status: int = 200, error: str | None = None):
    draft = _draft()
    if not draft.get("address") or not draft.get("shipping"):
        return private(redirect(url_for("storefront.checkout_start"), 303))
    _, cart = _cart()
    quote, quote_error = None, None
    if cart.lines:
        try:
            submission = saga.Submission(draft.get("email", ""), draft["address"], None, draft["shipping"],
                                         draft.get("discount"), "card", None)
            quote = pricing.draft(cart, submission, holder="", customer_id=None, client_ip=None).quote
        except DomainError as bad:
            quote_error = bad.message
    config = current_app.config
    return _page("payment", status, quote=quote, error=error or quote_error, idempotency_key=str(uuid.uuid4()),
                 stripe_api=config["STRIPE_API_BASE"], stripe_key=config["STRIPE_PUBLISHABLE_KEY"])
