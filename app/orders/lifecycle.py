"""What happens to an order after checkout: fulfilment (which captures the
payment), delivery, cancellation, refunds, notes and manual payments.

Each verb locks the order, checks the move is allowed (an illegal one is an
OrderError 409 and changes nothing; bad input a 422), changes the rows,
writes the timeline (an OrderEvent with actor and time) and records its side
effects through app.effects, all in one transaction. Calls to the PSP carry
idempotency keys made from our rows, so a retry never moves money twice.

Capture runs as a job (app.payments.jobs, queue "payments") after the first
fulfilment, or after confirmation when the store's `capture` setting is
"immediately".
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from urllib.parse import urlsplit

import sqlalchemy as sa

from app import idempotency, parse
from app.checkout import discounts
from app.effects import emit
from app.extensions import db
from app.inventory import reservations
from app.inventory import service as inventory
from app.inventory.service import InventoryError
from app.orders import events
from app.orders.models import Order, OrderLine, Refund, Shipment
from app.orders.presenter import order_json
from app.orders.service import OrderError, OrderErrorCode, _event, _locked, get, lines_of
from app.payments import gateway
from app.payments.models import Payment
from app.store.service import get_settings
from app.webhooks import events as webhooks
from tenants.context import require_store

log = logging.getLogger(__name__)

CAPTURE_MODES = ("on_fulfilment", "immediately")
CANCELLABLE = ("pending_payment", "payment_failed", "confirmed")
FULFILLABLE = ("confirmed", "partially_fulfilled")
SYSTEM = "system"
MAX_NOTE = 2000
MAX_REASON = 500


def illegal(message: str) -> OrderError:
    return OrderError(OrderErrorCode.ILLEGAL, message, status=409)


def invalid(message: str, field: str) -> OrderError:
    return OrderError(OrderErrorCode.INVALID, message, field)


# -- fulfilment ------------------------------------------------------------------------------------------------------

def fulfil(order_id: int, lines: dict[int, int] | None, *, carrier: str = "", tracking_number: str = "",
           tracking_url: str = "", actor: str, notify: bool = True) -> Shipment:
    """Ship `lines` ({order line id: units}; None: everything left to ship) as one shipment."""
    order = _locked(order_id)
    if order.status not in FULFILLABLE:
        raise illegal(f"Order {order.name} is {_said(order.status)}: only a confirmed order can be fulfilled.")
    tracking = _tracking(carrier, tracking_number, tracking_url)
    order_lines = {line.id: line for line in lines_of(order.id)}
    shipped = _units_to_ship(order_lines, lines)
    for line_id, units in shipped:
        order_lines[line_id].fulfilled += units
    shipment = Shipment(order_id=order.id, lines=[list(pair) for pair in shipped], created_by=actor, **tracking)
    db.session.add(shipment)
    first = order.fulfillment_status == "unfulfilled"
    done = all(_left_to_ship(line) == 0 for line in order_lines.values())
    order.fulfillment_status = "fulfilled" if done else "partial"
    order.status = "fulfilled" if done else "partially_fulfilled"
    db.session.flush()
    count = sum(units for _, units in shipped)
    _event(order, "fulfilled", f"Fulfilled {count} item{'s' if count != 1 else ''}{_tracking_text(shipment)}.", actor)
    if first and (payment := current_payment(order.id)) is not None and payment.status == "authorized":
        emit(events.CAPTURE_REQUESTED, order_id=order.id)
    if notify:
        emit(events.SHIPPED_MAIL, order_id=order.id, shipment_id=shipment.id)
    _hook(events.ORDERS_FULFILLED, order, shipment_id=str(shipment.id))
    db.session.commit()
    return shipment


def add_tracking(order_id: int, shipment_id: int, *, carrier: str, tracking_number: str, tracking_url: str,
                 actor: str, notify: bool = True) -> Shipment:
    order = _locked(order_id)
    shipment = db.session.scalar(sa.select(Shipment).where(Shipment.id == shipment_id, Shipment.order_id == order.id))
    if shipment is None:
        raise OrderError(OrderErrorCode.NOT_FOUND, "No such shipment on this order.", status=404)
    tracking = _tracking(carrier, tracking_number, tracking_url)
    if not tracking["tracking_number"]:
        raise invalid("Enter the tracking number.", "tracking_number")
    for name, value in tracking.items():
        setattr(shipment, name, value)
    _event(order, "tracking", f"Tracking added{_tracking_text(shipment)}.", actor)
    if notify:
        emit(events.SHIPPED_MAIL, order_id=order.id, shipment_id=shipment.id)
    db.session.commit()
    return shipment


def mark_delivered(order_id: int, *, actor: str) -> Order:
    order = _locked(order_id)
    if order.status != "fulfilled":
        raise illegal(f"Order {order.name} is {_said(order.status)}: only a fulfilled order can be delivered.")
    order.status = "delivered"
    _event(order, "delivered", "Marked as delivered.", actor)
    db.session.commit()
    return order


def _left_to_ship(line: OrderLine) -> int:
    """Units neither shipped nor refunded (a refunded unit is not shipped any more)."""
    return max(0, line.quantity - line.fulfilled - line.refunded)


def _units_to_ship(order_lines: dict[int, OrderLine], wanted: dict[int, int] | None) -> list[tuple[int, int]]:
    if wanted is None:
        shipped = [(line.id, _left_to_ship(line)) for line in order_lines.values() if _left_to_ship(line)]
    else:
        shipped = []
        for line_id, units in wanted.items():
            line = order_lines.get(line_id)
            if line is None:
                raise invalid("That line is not on this order.", "lines")
            if not 0 <= units <= _left_to_ship(line):
                raise invalid(f"{line.title}: ship from 0 to {_left_to_ship(line)}.", f"units_{line_id}")
            if units:
                shipped.append((line_id, units))
    if not shipped:
        raise invalid("Choose at least one item to ship.", "lines")
    return shipped


def _tracking(carrier, number, url) -> dict[str, str]:
    carrier = _text(carrier, "carrier", "The carrier", 80)
    number = _text(number, "tracking_number", "The tracking number", 120)
    url = _text(url, "tracking_url", "The tracking link", 2000)
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in url:
            raise invalid("The tracking link must be a web address starting with https://.", "tracking_url")
    return {"carrier": carrier, "tracking_number": number, "tracking_url": url}


def _tracking_text(shipment: Shipment) -> str:
    parts = [part for part in (shipment.carrier, shipment.tracking_number) if part]
    return f" ({' '.join(parts)})" if parts else ""


# -- payment --------------------------------------------------------------------------------------------------------

def current_payment(order_id: int, *, lock: bool = False) -> Payment | None:
    """The order's live payment: its latest that did not fail (else its latest)."""
    query = sa.select(Payment).where(Payment.order_id == order_id).order_by(
        (Payment.status == "failed").asc(), Payment.id.desc()).limit(1)
    return db.session.scalar(query.with_for_update() if lock else query)


def capture(order_id: int, *, actor: str = SYSTEM) -> Payment | None:
    """Capture the order's authorized payment (the job's work; safe to run
    twice). A voided or cancelled one is refused (409). Raises
    gateway.Unavailable while the PSP is away, for the job to retry."""
    order = _locked(order_id)
    if order.held_for_review:
        raise illegal(f"Order {order.name} is held for fraud review: approve it first.")
    payment = current_payment(order.id, lock=True)
    if payment is None or payment.provider != "stripe" or payment.status == "captured":
        db.session.commit()
        return payment
    if order.status == "cancelled" or payment.status != "authorized":
        raise illegal(f"The payment of order {order.name} is {_said(payment.status)}; it cannot be captured.")
    try:
        # The store's id too: row ids repeat across tenant schemas, and one Stripe account serves them all.
        key = f"capture:{require_store().id}:{payment.id}"
        intent = gateway.capture(payment.intent_id, payment.amount, key=key)
    except gateway.Refused as refused:
        intent = gateway.retrieve(payment.intent_id)  # captured already (say, by a retry with another key)?
        if intent.status == "authorized":
            raise  # still capturable: the job's retries (bounded) try again
        if intent.status != "captured":  # expired or voided at the PSP: retrying will not help
            payment.status, payment.last_error = intent.status, refused.message
            _event(order, "capture_failed", f"The payment could not be captured: {refused.message}", actor)
            db.session.commit()
            return payment
    payment.status, payment.captured = "captured", min(intent.received, payment.amount)
    if order.payment_status in ("authorized", "pending"):
        order.payment_status = "paid"
    _event(order, "captured", f"Payment captured: {_money(order, payment.captured)}.", actor)
    db.session.commit()
    return payment


def capture_if_immediate(order_id: int) -> None:
    """After confirmation: ask for the capture at once if the store captures immediately (in the
    caller's transaction)."""
    if get_settings().get("capture") != "immediately":
        return
    if get(order_id).held_for_review:
        return  # captured once a merchant approves it (app.orders.risk.approve)
    payment = current_payment(order_id)
    if payment is not None and payment.provider == "stripe" and payment.status == "authorized":
        emit(events.CAPTURE_REQUESTED, order_id=order_id)


def mark_paid(order_id: int, *, actor: str) -> Order:
    """A manual payment (bank transfer, cash on delivery) arrived."""
    order = _locked(order_id)
    payment = current_payment(order.id, lock=True)
    if payment is None or payment.provider != "manual" or payment.status != "awaiting" or order.status in (
            "cancelled", "pending_payment", "payment_failed"):
        raise illegal(f"Order {order.name} has no manual payment awaiting; nothing to mark as paid.")
    payment.status, payment.captured = "paid", payment.amount
    order.payment_status = "paid"
    _event(order, "paid", f"Manual payment of {_money(order, payment.amount)} marked as received.", actor)
    db.session.commit()
    return order


# -- cancellation ---------------------------------------------------------------------------------------------------

def cancel(order_id: int, *, actor: str, restock: bool = True, reason: str = "") -> Order:
    """Cancel an order nothing of which has shipped: void its authorization
    (or refund what was captured), put its sold units back where they came
    from, give back its discount use."""
    reason = _text(reason, "reason", "The reason", MAX_REASON)
    order = _locked(order_id)
    if order.status not in CANCELLABLE or order.fulfillment_status != "unfulfilled":
        raise illegal(f"Order {order.name} is {_said(order.status)}: only an order not yet fulfilled can be "
                      "cancelled. Refund it instead.")
    payment = current_payment(order.id, lock=True)
    money_back = _undo_payment(order, payment, actor) if payment is not None else ""
    if order.status == "confirmed" and restock:
        _restock_all(order, actor)
    held = order.status == "pending_payment"
    discounts.release(order.token)
    order.status = "cancelled"
    order.cancelled_at = datetime.now(timezone.utc)
    _event(order, "cancelled", f"Cancelled{': ' + reason if reason else ''}.{money_back}"
           f"{' Items restocked.' if restock and order.confirmed_at else ''}", actor)
    _hook(events.ORDERS_CANCELLED, order)
    db.session.commit()
    if held:
        reservations.release(order.holder)  # the stock held while the payment was under way
    return order


def _undo_payment(order: Order, payment: Payment, actor: str) -> str:
    """Void an authorization, refund a capture; what the timeline says of it."""
    if payment.provider == "stripe" and payment.intent_id and payment.status in ("authorized", "pending",
                                                                                   "requires_action"):
        intent = _psp(lambda: gateway.void(payment.intent_id, key=f"void:{payment.intent_id}"))
        payment.status = "voided" if intent.status == "voided" else intent.status
        order.payment_status = "voided"
        return " The authorization was voided."
    if payment.status == "awaiting":
        payment.status = order.payment_status = "voided"
        return ""
    left = payment.captured - payment.refunded
    if left > 0:
        _record_refund(order, payment, left, key=f"cancel:{require_store().id}:{order.id}",
                       reason="Order cancelled", lines={}, restock=False, actor=actor)
        return f" {_money(order, left)} refunded."
    return ""


def _restock_all(order: Order, actor: str) -> None:
    for line in lines_of(order.id):
        _restock(line, line.quantity - line.refunded, note=f"Order {order.name} cancelled", actor=actor)


def _restock(line: OrderLine, units: int, *, note: str, actor: str) -> None:
    """Put `units` of the line back at the locations its stock was sold from, after those already put back."""
    if not line.tracked or line.variant_id is None or units <= 0:
        return
    skip = line.refunded
    for location_id, sold in line.locations:
        back = max(0, min(sold - skip, units))
        skip = max(0, skip - sold)
        if back:
            try:
                with db.session.begin_nested():
                    inventory.restock(line.variant_id, int(location_id), back, note=note, actor=actor)
            except InventoryError as error:  # the variant was deleted, the location closed: nothing to put back
                log.info("restock of line %s skipped: %s", line.id, error.message)
            units -= back
        if units <= 0:
            return


# -- refunds --------------------------------------------------------------------------------------------------------

def refundable(order: Order) -> int:
    payment = current_payment(order.id)
    return 0 if payment is None else payment.captured - payment.refunded


def refund(order_id: int, amount: int, *, lines: dict[int, int] | None = None, restock: bool = False,
           reason: str = "", key: str, actor: str) -> Refund:
    """Give back `amount` (minor units, at most what was captured and not yet
    refunded); `lines` says which units came back (restocked if `restock`).
    `key` (the form's idempotency key) makes a double submission refund once:
    the second answers with the first's refund (app.idempotency; the PSP gets
    f"refund:{key}" too)."""
    key = _key(key)
    reason = _text(reason, "reason", "The reason", MAX_REASON)
    lines = dict(lines or {})
    request = {"order": order_id, "amount": amount, "lines": sorted(lines.items()), "restock": restock,
               "reason": reason}
    answer = idempotency.run("refund", key, request, lambda: idempotency.Answer(201, {"refund_id": _refund(
        order_id, amount, lines, restock, reason, key, actor).id}))
    return db.session.scalar(sa.select(Refund).where(Refund.id == answer.body["refund_id"]))


def _refund(order_id, amount, lines, restock, reason, key, actor) -> Refund:
    order = _locked(order_id)
    payment = current_payment(order.id, lock=True)
    if payment is None or order.status in ("pending_payment", "payment_failed"):
        raise illegal(f"Order {order.name} has no payment to refund.")
    left = payment.captured - payment.refunded
    if left <= 0:
        raise illegal(f"Nothing of order {order.name} can be refunded: "
                      f"{'its payment is not captured yet' if payment.captured == 0 else 'it was all refunded'}.")
    if not 0 < amount <= left:
        raise invalid(f"Refund an amount from {_money(order, 1)} to {_money(order, left)}.", "amount")
    returned = _returned_units(order, lines)
    row = _record_refund(order, payment, amount, key=f"refund:{key}", reason=reason, lines=returned,
                         restock=restock, actor=actor)
    db.session.commit()
    return row


def _key(key) -> str:
    try:
        return idempotency.check_key(key)
    except idempotency.IdempotencyError:
        raise invalid("The form is missing its refund key; reload the page and try again.", "key") from None


def _returned_units(order: Order, wanted: dict[int, int]) -> dict[int, int]:
    order_lines = {line.id: line for line in lines_of(order.id)}
    returned = {}
    for line_id, units in wanted.items():
        line = order_lines.get(line_id)
        if line is None:
            raise invalid("That line is not on this order.", "lines")
        if not 0 <= units <= line.quantity - line.refunded:
            raise invalid(f"{line.title}: return from 0 to {line.quantity - line.refunded}.", f"units_{line_id}")
        if units:
            returned[line_id] = units
    return returned


def _record_refund(order: Order, payment: Payment, amount: int, *, key: str, reason: str, lines: dict[int, int],
                   restock: bool, actor: str):
    external = None
    if payment.provider == "stripe":
        external = _psp(lambda: gateway.refund(payment.intent_id, amount, key=key))
    payment.refunded += amount
    order_lines = {line.id: line for line in lines_of(order.id)}
    for line_id, units in lines.items():
        line = order_lines[line_id]
        if restock:
            _restock(line, units, note=f"Returned from order {order.name}", actor=actor)
        line.refunded += units
    row = Refund(order_id=order.id, amount=amount, reason=reason, restock=restock and bool(lines),
                 lines=[[line_id, units] for line_id, units in lines.items()], external_id=external,
                 created_by=actor)
    db.session.add(row)
    all_back = payment.refunded >= payment.captured
    order.payment_status = "refunded" if all_back else "partially_refunded"
    if all_back and order.status != "cancelled":
        order.status = "refunded"
    db.session.flush()
    _event(order, "refunded", f"Refunded {_money(order, amount)}{': ' + reason if reason else ''}"
           f"{' (items restocked)' if row.restock else ''}.", actor)
    emit(events.REFUNDED_MAIL, order_id=order.id, refund_id=row.id)
    _hook(events.REFUNDS_CREATE, order, refund={"id": str(row.id), "amount": row.amount, "currency": order.currency})
    return row


# -- notes ----------------------------------------------------------------------------------------------------------

def add_note(order_id: int, text: str, *, actor: str) -> None:
    """A note for the merchant's eyes only (never shown to the shopper)."""
    note = _text(text, "note", "The note", MAX_NOTE, multiline=True)
    if not note:
        raise invalid("Write the note first.", "note")
    order = _locked(order_id)
    _event(order, "note", note, actor)
    db.session.commit()


# -- helpers --------------------------------------------------------------------------------------------------------

def _psp(call):
    """A PSP call inside a verb: its failure is a refusal that changed nothing (the caller rolls back)."""
    try:
        return call()
    except gateway.Unavailable as error:
        raise OrderError(OrderErrorCode.PAYMENT, error.message, status=503) from None
    except gateway.PaymentError as error:
        raise OrderError(OrderErrorCode.PAYMENT, f"The payment provider refused: {error.message}",
                         status=409) from None


def _hook(topic: str, order, **extra) -> None:
    """Tell the merchant's webhooks (in this transaction: nothing is sent if it rolls back)."""
    db.session.flush()
    webhooks.publish(topic, {"order": order_json(order), **extra})


def _text(value, field: str, label: str, max_length: int, *, multiline: bool = False) -> str:
    try:
        return parse.text(value, field=field, label=label, max_length=max_length, multiline=multiline)
    except parse.BadInput as error:
        raise invalid(error.message, field) from None


def _said(status: str) -> str:
    return status.replace("_", " ")


def _money(order: Order, amount: int) -> str:
    from app.money import format_money

    return format_money(amount, order.currency, require_store().locale)
