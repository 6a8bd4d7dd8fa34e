"""The checkout: a saga with compensation (DESIGN.md, "Checkout and payments").

1. Under the cart's lock: read the cart as it is now (lapsed holds taken
   again while stock allows); a line that is short is a 409 naming it.
2. Price it (shipping, discount, tax), score it by the store's fraud rules
   (app.orders.risk) and make the order `pending_payment`, with its payment
   row and its use of the discount, in one transaction that also moves the
   cart's holds to the order for PAYMENT_MINUTES: no one else can take those
   units while the card is asked. Refused by the fraud rules: the order is
   failed at once and the card is not asked; held for review: it goes ahead
   but is not captured until a merchant approves it.
3. Ask for the money: a PaymentIntent to be captured later, with an
   idempotency key made from the order, so a retry never charges twice.
4. Authorized: the order is confirmed (the stock is sold, the number
   given, the mails queued) in the transaction that stores the key's
   answer, and then the ordered lines leave the cart. Declined: the order
   is `payment_failed` and the holds go back to the cart, so the shopper
   can try another card. 3-D Secure: the shopper is sent to the bank and
   comes back to `resume`, as does Stripe's webhook.
   Authorized but the stock could not be had after all (the holds lapsed
   and sold meanwhile): the authorization is voided.

The whole of it runs once per idempotency key (app.idempotency): the same
key answers the first outcome again.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from flask import url_for

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
FRAUD_REFUSAL = "Refused by the store's fraud rules; the card was not asked."


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


def checkout(owner: Owner, customer_id: int | None, submission: Submission, key: str, *,
             client_ip: str | None) -> idempotency.Answer:
    """Place the cart as an order and pay for it, once per `key`."""
    request = {"cart": owner.holder, **asdict(submission)}
    answer = idempotency.run("checkout", key, request, lambda: _place(owner, customer_id, submission, client_ip))
    if answer.status == 201 and not answer.replayed:  # a replay finds the cart as the shopper has it since
        _leave_cart(owner, answer.body["order"])
    return answer


def resume(order: Order, owner: Owner | None = None) -> idempotency.Answer:
    """After 3-D Secure (the shopper's return, or the PSP's webhook): settle
    the order by what the PSP says of its payment now."""
    payment = next((p for p in reversed(orders.payments_of(order.id)) if p.intent_id), None)
    if payment is None or order.status != "pending_payment":
        return _answer(order)
    intent = gateway.retrieve(payment.intent_id)
    payments.record(payment.id, intent, commit=False)  # with the order's settling, in one transaction
    answer = _settle(order.id, payment.id, intent)
    db.session.commit()
    if owner is not None and answer.status == 201:
        _leave_cart(owner, answer.body["order"])
    return answer


# -- the steps --------------------------------------------------------------------------------------------------------
# Three transactions: the key's claim (app.idempotency); the pending order with its payment, its fraud
# assessment, its discount's use and the cart's holds; then, once the PSP answered (asked with no transaction
# open), the payment as recorded, the confirmed order and the key's stored answer (committed by idempotency.run).

@dataclass(frozen=True)
class Placed:
    """What the steps after the order's transaction need of it, read before that transaction commits."""

    order_id: int
    token: str
    total: int
    currency: str
    email: str
    payment_id: int
    payment_key: str  # the PSP's idempotency key for this order's payment
    refused: bool  # by the store's fraud rules


def _place(owner, customer_id, submission, client_ip) -> idempotency.Answer:
    store = require_store()
    card = submission.payment != "manual"
    fingerprint = gateway.fingerprint(submission.payment_method) if card else None  # a PSP call: not under the lock
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
            placed = _make_order(owner, priced, fingerprint, card=card)
            db.session.commit()
    except CartError as busy:
        if busy.code is not CartErrorCode.BUSY:
            raise
        return _refused(409, "cart_busy", busy.message)
    except DomainError as refused:  # an address we do not ship to, a code that cannot be used: nothing was made
        db.session.rollback()
        return _refused(refused.status, refused.code.value, refused.message, field=refused.field)
    if placed.refused:
        return _refused(402, "order_refused", risk.REFUSAL, orders.get(placed.order_id))
    if not card:
        return _confirm(placed.order_id, placed.payment_id, "awaiting", "Placed with a manual payment: awaiting "
                        "payment.")
    try:
        intent = gateway.authorize(amount=placed.total, currency=placed.currency,
                                   payment_method=submission.payment_method, key=placed.payment_key,
                                   order_token=placed.token, store_id=store.id,
                                   return_url=url_for("storefront.checkout_return", token=placed.token,
                                                      _external=True),
                                   email=placed.email, description=f"{store.name} order")
    except gateway.Declined as declined:
        _record_failure(placed.payment_id, declined)
        order = _fail(placed.order_id, f"The card was declined: {declined.message}")
        return _refused(402, declined.code or "card_declined", declined.message, order)
    except gateway.PaymentError as failure:  # the PSP is away (503), or refused the request itself (422)
        _record_failure(placed.payment_id, failure)
        _fail(placed.order_id, f"The payment could not be made: {failure.message}")
        status = 503 if isinstance(failure, gateway.Unavailable) else 422
        return _refused(status, "payment_unavailable" if status == 503 else "payment_refused", failure.message)
    payments.record(placed.payment_id, intent, commit=False)  # with the order's settling, in one transaction
    return _settle(placed.order_id, placed.payment_id, intent)


def _make_order(owner: Owner, priced, fingerprint: str | None, *, card: bool) -> Placed:
    """The pending order and its payment, scored by the store's fraud rules (app.orders.risk), in the
    caller's transaction. Refused: it is payment_failed at once, nothing is asked of the card and the
    stock stays the cart's. Held for review: it goes ahead, flagged, and is not captured until a merchant
    approves it. Otherwise the cart's holds become the order's."""
    assessment = risk.assess(risk.facts_for(priced.draft, card_fingerprint=fingerprint))
    order = orders.create_pending(priced.draft, commit=False)
    risk.record(order, assessment, actor=ACTOR)
    payment = payments.start(order.id, provider="stripe" if card else "manual", amount=order.total,
                             currency=order.currency, key=_payment_key(order),
                             card_fingerprint=fingerprint)
    refused = assessment.level == "decline"
    if refused:
        payments.failed(payment.id, FRAUD_REFUSAL, commit=False)
        orders.refuse(order, message=FRAUD_REFUSAL, actor=ACTOR)
    else:
        pricing.redeem(priced, order)
        reservations.hand_over(owner.holder, order.holder, minutes=PAYMENT_MINUTES)
    return Placed(order.id, order.token, order.total, order.currency, order.email, payment.id, payment.idempotency_key,
                  refused)


def _payment_key(order: Order) -> str:
    """One order, one PaymentIntent: the key a retry asks the PSP with again."""
    return f"pi:{order.store_id}:{order.token}"


def _settle(order_id: int, payment_id: int, intent: gateway.Intent) -> idempotency.Answer:
    if intent.status == "requires_action":
        return idempotency.Answer(202, {"order": order_json(orders.get(order_id)),
                                        "next_action": {"redirect_url": intent.redirect_url}})
    if intent.status in ("authorized", "captured"):
        paid = "authorized" if intent.status == "authorized" else "paid"
        return _confirm(order_id, payment_id, paid, f"Payment {paid}: {_money(intent)}.", intent=intent)
    message = intent.error or "The payment was not completed."
    order = _fail(order_id, f"The payment failed: {message}")
    return _refused(402, "card_declined", message, order)


def _confirm(order_id: int, payment_id: int, paid: str, message: str, *,
             intent: gateway.Intent | None = None) -> idempotency.Answer:
    """The order confirmed, uncommitted: its caller commits it with the answer."""
    try:
        order = orders.confirm(order_id, payment_status=paid, actor=ACTOR, message=message, commit=False)
    except reservations.Shortage as short:  # paid, but the units went while the payment took its time
        db.session.rollback()
        if intent is not None:
            payments.record(payment_id, intent)
            _void(intent, payment_id)
        _fail(order_id, "The items sold out while the payment was made; the payment was voided.")
        return _shortage([(short.variant_id, short.requested, short.available)],
                         "An item sold out while your payment was being made; you were not charged.")
    return idempotency.Answer(201, {"order": order_json(order)})


def _fail(order_id: int, message: str) -> Order:
    """The order did not go through: its stock back to the cart, its use of a discount code undone."""
    order = orders.fail(order_id, message=message, actor=ACTOR)
    pricing.release(order)
    db.session.commit()
    return order


def _void(intent: gateway.Intent, payment_id: int) -> None:
    try:
        payments.record(payment_id, gateway.void(intent.id, key=f"void:{intent.id}"))
    except gateway.PaymentError:  # reconciliation voids an authorization whose order failed
        pass


def _leave_cart(owner: Owner, order: dict) -> None:
    """The ordered lines leave the cart, once the order is committed (their stock is the order's now)."""
    for line in order["lines"]:
        if line["variant_id"] is not None:
            storage.drop_line(owner, line["variant_id"])


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
