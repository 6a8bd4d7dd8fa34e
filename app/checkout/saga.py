"""The checkout: a saga with compensation (DESIGN.md, "Checkout and payments").

1. Under the cart's lock: read the cart as it is now (lapsed holds taken
   again while stock allows); a line that is short is a 409 naming it.
2. Price it (shipping, discount, tax) and make the order `pending_payment`,
   with its payment row (and the discount's use), in one transaction.
3. Move the cart's holds to the order, for PAYMENT_MINUTES: no one else can
   take those units while the card is asked.
   The store's fraud rules score it (app.orders.risk): refused, nothing is
   asked of the card; held for review, it goes ahead but is not captured.
4. Ask for the money: a PaymentIntent to be captured later, with an
   idempotency key made from the order, so a retry never charges twice.
5. Authorized: the order is confirmed (the stock is sold, the number
   given, the mails queued) and the ordered lines leave the cart. Declined:
   the order is `payment_failed` and the holds go back to the cart, so the
   shopper can try another card. 3-D Secure: the shopper is sent to the
   bank and comes back to `resume`, as does Stripe's webhook.
   Authorized but the stock could not be had after all (the holds lapsed
   and sold meanwhile): the authorization is voided.

The whole of it runs once per idempotency key (app.idempotency): the same
key answers the first outcome again.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from app import idempotency
from app.cart import service as carts
from app.cart import storage
from app.cart.errors import CartError, CartErrorCode
from app.cart.storage import Owner
from app.checkout import pricing
from app.domain_errors import DomainError
from app.extensions import db
from app.money import format_money
from app.inventory import reservations
from app.orders import risk
from app.orders import service as orders
from app.orders.models import Order
from app.orders.presenter import order_json
from app.payments import gateway
from app.payments import service as payments
from tenants.context import require_store

PAYMENT_MINUTES = 30  # how long an order's stock stays held while its payment is under way (3-D Secure too)
ACTOR = "checkout"


@dataclass(frozen=True)
class Submission:
    """A checkout as the edge parsed it (storefront form or API body)."""

    email: str
    shipping_address: dict
    billing_address: dict | None
    shipping_option: str | None
    discount_code: str | None
    payment: str  # card | manual
    payment_method: str | None  # the card's PaymentMethod (pm_…), tokenized by the PSP


def checkout(owner: Owner, customer_id: int | None, submission: Submission, key: str, *, client_ip: str | None,
             return_url: Callable[[Order], str]) -> idempotency.Answer:
    """Place the cart as an order and pay for it, once per `key`."""
    request = {"cart": owner.holder, **asdict(submission)}
    return idempotency.run("checkout", key, request,
                           lambda: _place(owner, customer_id, submission, client_ip, return_url))


def resume(order: Order, owner: Owner | None = None) -> idempotency.Answer:
    """After 3-D Secure (the shopper's return, or the PSP's webhook): settle
    the order by what the PSP says of its payment now."""
    payment = next((p for p in reversed(orders.payments_of(order.id)) if p.intent_id), None)
    if payment is None or order.status != "pending_payment":
        return _answer(order)
    intent = gateway.retrieve(payment.intent_id)
    payments.record(payment.id, intent, commit=False)  # with the order's settling, in one transaction
    return _settle(order, payment.id, intent, owner)


# -- the steps --------------------------------------------------------------------------------------------------------

def _place(owner, customer_id, submission, client_ip, return_url) -> idempotency.Answer:
    store = require_store()
    try:
        with storage.changing(owner):
            cart = carts.view(owner, store.currency)
            if not cart.lines:
                return _refused(422, "cart_expired", "Your cart is empty: it expired or was already ordered.")
            short = _short_lines(owner, cart)
            if short or cart.notices:
                return _shortage(short, " ".join(cart.notices) or "Some items in your cart are no longer "
                                 "available in the quantity you chose.")
            priced = pricing.draft(cart, submission, holder=owner.holder, customer_id=customer_id,
                                   client_ip=client_ip)
            order = orders.create_pending(priced.draft, commit=False)
            payment = payments.start(order.id, provider="manual" if submission.payment == "manual" else "stripe",
                                     amount=order.total, currency=order.currency, key=f"pi:{store.id}:{order.token}")
            pricing.redeem(priced, order)
            payment_id = payment.id
            db.session.commit()
            reservations.hand_over(owner.holder, order.holder, minutes=PAYMENT_MINUTES)
    except CartError as busy:
        if busy.code is not CartErrorCode.BUSY:
            raise
        return _refused(409, "cart_busy", busy.message)
    except DomainError as refused:  # an address we do not ship to, a code that cannot be used: nothing was made
        db.session.rollback()
        return _refused(refused.status, refused.code.value, refused.message, field=refused.field)
    refusal = _screen(order, priced.draft, payment_id, submission)
    if refusal is not None:
        return refusal
    if submission.payment == "manual":
        return _confirm(order, payment_id, "awaiting", "Placed with a manual payment: awaiting payment.", owner)
    try:
        intent = gateway.authorize(amount=order.total, currency=order.currency,
                                   payment_method=submission.payment_method, key=f"pi:{store.id}:{order.token}",
                                   order_token=order.token, store_id=store.id, return_url=return_url(order),
                                   email=order.email, description=f"{store.name} order")
    except gateway.Declined as declined:
        _record_failure(payment_id, declined)
        _fail(order, f"The card was declined: {declined.message}")
        return _refused(402, declined.code or "card_declined", declined.message, order)
    except gateway.PaymentError as failure:  # the PSP is away (503), or refused the request itself (422)
        _record_failure(payment_id, failure)
        _fail(order, f"The payment could not be made: {failure.message}")
        status = 503 if isinstance(failure, gateway.Unavailable) else 422
        return _refused(status, "payment_unavailable" if status == 503 else "payment_refused", failure.message)
    payments.record(payment_id, intent, commit=False)  # with the order's settling, in one transaction
    return _settle(order, payment_id, intent, owner)


def _screen(order: Order, draft, payment_id: int, submission: Submission) -> idempotency.Answer | None:
    """The store's fraud rules (app.orders.risk), before the card is asked. Refused: nothing is charged and
    the stock goes back to the cart. Held for review: the order goes ahead, flagged, and is not captured
    until a merchant approves it."""
    fingerprint = gateway.fingerprint(submission.payment_method) if submission.payment == "card" else None
    assessment = risk.assess(risk.facts_for(draft, order.token, fingerprint))
    risk.record(order.id, assessment, payment_id=payment_id, card_fingerprint=fingerprint, actor=ACTOR)
    if assessment.level != "decline":
        return None
    payments.failed(payment_id, "Refused by the store's fraud rules; the card was not asked.")
    _fail(order, "Refused by the store's fraud rules; the card was not asked.")
    return _refused(402, "order_refused", risk.REFUSAL, order)


def _settle(order: Order, payment_id: int, intent: gateway.Intent, owner: Owner | None) -> idempotency.Answer:
    if intent.status == "requires_action":
        db.session.commit()  # the payment as recorded
        return idempotency.Answer(202, {"order": order_json(order),
                                        "next_action": {"redirect_url": intent.redirect_url}})
    if intent.status in ("authorized", "captured"):
        paid = "authorized" if intent.status == "authorized" else "paid"
        return _confirm(order, payment_id, paid, f"Payment {paid}: {_money(intent)}.", owner, intent=intent)
    message = intent.error or "The payment was not completed."
    _fail(order, f"The payment failed: {message}")
    return _refused(402, "card_declined", message, order)


def _confirm(order: Order, payment_id: int, paid: str, message: str, owner: Owner | None, *,
             intent: gateway.Intent | None = None) -> idempotency.Answer:
    try:
        order = orders.confirm(order.id, payment_status=paid, actor=ACTOR, message=message)
    except reservations.Shortage as short:  # paid, but the units went while the payment took its time
        db.session.rollback()
        if intent is not None:
            payments.record(payment_id, intent)
            _void(intent, payment_id)
        _fail(order, "The items sold out while the payment was made; the payment was voided.")
        return _shortage([(short.variant_id, short.requested, short.available)],
                         "An item sold out while your payment was being made; you were not charged.")
    if owner is not None:
        _leave_cart(owner, order)
    return idempotency.Answer(201, {"order": order_json(order)})


def _fail(order: Order, message: str) -> None:
    """The order did not go through: its stock back to the cart, its use of a discount code undone."""
    orders.fail(order.id, message=message, actor=ACTOR)
    pricing.release(order)
    db.session.commit()


def _void(intent: gateway.Intent, payment_id: int) -> None:
    try:
        payments.record(payment_id, gateway.void(intent.id, key=f"void:{intent.id}"))
    except gateway.PaymentError:  # reconciliation voids an authorization whose order failed
        pass


def _leave_cart(owner: Owner, order: Order) -> None:
    """The ordered lines leave the cart (their stock is the order's now)."""
    for line in orders.lines_of(order.id):
        if line.variant_id is not None:
            storage.drop_line(owner, line.variant_id)


def _short_lines(owner: Owner, cart) -> list[tuple[int, int, int]]:
    """(variant, wanted, held) of the lines whose stock is not all held for this cart."""
    holds = reservations.holds(owner.holder)
    return [(line.item.variant_id, line.quantity, holds[line.item.variant_id].quantity
             if line.item.variant_id in holds else 0)
            for line in cart.lines if line.item.tracked and (line.item.variant_id not in holds
                                                              or holds[line.item.variant_id].quantity < line.quantity)]


def _record_failure(payment_id: int, failure: gateway.PaymentError) -> None:
    if failure.intent is not None:
        payments.record(payment_id, failure.intent, error=failure.message)
    else:
        payments.failed(payment_id, failure.message)


def _answer(order: Order) -> idempotency.Answer:
    if order.status == "pending_payment":
        return idempotency.Answer(202, {"order": order_json(order)})
    if order.status == "payment_failed":
        return _refused(402, "card_declined", "The payment was not completed.", order)
    return idempotency.Answer(200, {"order": order_json(order)})


def _refused(status: int, code: str, message: str, order: Order | None = None, *,
             field: str | None = None) -> idempotency.Answer:
    body = {"error": {"code": code, "message": message}}
    if field:
        body["error"]["field"] = field
    if order is not None:
        body["error"]["order"] = order_json(order)
    return idempotency.Answer(status, body)


def _shortage(lines: list[tuple[int, int, int]], message: str) -> idempotency.Answer:
    body = {"error": {"code": "shortage", "message": message,
                      "lines": [{"line": str(variant_id), "variant_id": variant_id, "requested": wanted,
                                 "available": held} for variant_id, wanted, held in lines]}}
    return idempotency.Answer(409, body)


def _money(intent: gateway.Intent) -> str:
    return format_money(intent.amount, intent.currency, require_store().locale)
