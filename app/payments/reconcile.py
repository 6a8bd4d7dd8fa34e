"""Reconciliation: make the orders and the PSP agree (every 10 minutes, app.scheduler).

The checkout can be cut short between asking for the money and recording the
answer (a crash, a lost answer, a shopper who never came back from 3-D
Secure, a webhook that never came). Each store is compared with the PSP:

* An authorization (requires_capture) or a pending 3-D Secure
  (requires_action) whose order is not going ahead (payment_failed,
  cancelled, or no order at all) is voided at the PSP, so the shopper's
  money is not held for nothing.
* An order still pending_payment after the checkout's PAYMENT_MINUTES:
  - the PSP authorized it (the answer was lost): it is completed
    (app.orders.service.confirm), or voided when its stock is gone;
  - the PSP has nothing authorized (no intent, declined, abandoned at the
    bank: voided first): it is failed, not cancelled. `fail` is what the
    checkout does when a payment does not go through: the order never got
    a number nor sold stock, its holds go back to the shopper's cart and
    its discount use is undone; `cancelled` is for orders that were placed.
* A confirmed card order (of the last RECHECK_HOURS) whose payment the PSP
  does not hold (voided, declined, missing): it is flagged for the
  merchant: an order event and `orders.risk["payment_issue"]`.

Every repair is idempotent (the void carries the checkout's own idempotency
key, confirm/fail change only a pending order, a flag is written once), so a
second run changes nothing. One store's failure (its database, the PSP) is
logged and the others go on; each pass gives every store one batch, so a
store with a backlog does not hold up the rest.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from app.checkout import pricing
from app.checkout.saga import PAYMENT_MINUTES
from app.extensions import db
from app.inventory import reservations
from app.jobs import job
from app.orders import service as orders
from app.orders.models import Order, OrderEvent
from app.payments import gateway
from app.payments import service as payments
from app.payments.models import Payment
from tenants.context import require_store, store_context
from tenants.models import Store, placement_of

log = logging.getLogger(__name__)

ACTOR = "reconciliation"
INTERVAL = 10 * 60  # seconds between runs
BATCH = 100  # orders of each kind per store per pass
PASSES = 10
RECHECK_HOURS = 24  # confirmed card orders are compared with the PSP this long after they were placed
GOING_AHEAD = ("confirmed", "partially_fulfilled", "fulfilled", "delivered", "refunded")
NOT_GOING_AHEAD = ("payment_failed", "cancelled")
HELD = ("requires_action", "authorized")  # our payment statuses that hold the shopper's money (or may)


@dataclass
class Report:
    voided: int = 0  # authorizations released at the PSP
    completed: int = 0  # pending orders the PSP had authorized, confirmed
    failed: int = 0  # pending orders with nothing authorized, failed
    flagged: int = 0  # confirmed orders whose payment the PSP does not hold
    errors: int = 0  # repairs that could not be made now (the PSP away): tried again next run

    def add(self, other: Report) -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)


@job
def reconcile_payments(batch: int = BATCH, passes: int = PASSES) -> dict:
    """Periodic: reconcile every active store with the PSP; the counts (also logged)."""
    placements = [placement_of(store) for store in db.session.scalars(
        sa.select(Store).where(Store.status == "active").order_by(Store.id))]
    db.session.commit()
    total, cursors = Report(), {}
    for _ in range(passes):
        busy = []
        for placement in placements:
            try:
                with store_context(placement):
                    report, full, cursors[placement.id] = reconcile_store(batch, cursors.get(placement.id, 0))
            except Exception:
                log.exception("reconciling the payments of store %s failed", placement.id)
                continue
            total.add(report)
            if full:
                busy.append(placement)
        if not busy:
            break
        placements = busy
    log.info("payment reconciliation: %s", asdict(total))
    return asdict(total)


def reconcile_store(batch: int = BATCH, after_id: int = 0) -> tuple[Report, bool, int]:
    """One batch of each kind for the current store: (what was done, whether a batch was full, where the
    confirmed-order check got to)."""
    report = Report()
    cutoff = datetime.now(timezone.utc) - timedelta(minutes=PAYMENT_MINUTES)
    found = _psp_holds()
    suspects = _suspects(cutoff, found, batch)
    for order_id in suspects:
        _settle(order_id, found, cutoff, report)
    known = _tokens_known(list(found))
    for token, intent in found.items():  # held at the PSP for an order we do not have
        if token not in known:
            _void_orphan(intent, report)
    checked, last = _check_confirmed(batch, after_id, report)
    return report, len(suspects) >= batch or checked >= batch, last if checked >= batch else 0


# -- which orders to look at -----------------------------------------------------------------------------------------

def _psp_holds() -> dict[str, gateway.Intent]:
    """order token -> the store's PaymentIntents the PSP holds money (or a 3-D Secure) for."""
    store_id = require_store().id
    found = {}
    for psp_status in ("requires_capture", "requires_action"):
        for token, intent in gateway.store_intents(store_id, psp_status):
            if token:
                found.setdefault(token, intent)
    return found


def _suspects(cutoff: datetime, found: dict[str, gateway.Intent], batch: int) -> list[int]:
    """Orders that may not agree with the PSP, oldest first: stale pending ones, failed or cancelled ones whose
    payment may still hold money, and those the PSP holds money for that are not going ahead."""
    queries = [sa.select(Order.id).where(Order.status == "pending_payment", Order.created_at < cutoff),
               sa.select(Order.id).join(Payment, Payment.order_id == Order.id)
               .where(Order.status.in_(NOT_GOING_AHEAD), Payment.status.in_(HELD))]
    if found:
        queries.append(sa.select(Order.id).where(Order.token.in_(list(found)), Order.status.not_in(GOING_AHEAD)))
    ids = set()
    for query in queries:
        ids.update(db.session.scalars(query.order_by(Order.id).limit(batch)))
    db.session.commit()
    return sorted(ids)[:batch]


def _tokens_known(tokens: list[str]) -> set[str]:
    return set(db.session.scalars(sa.select(Order.token).where(Order.token.in_(tokens)))) if tokens else set()


# -- settling one order ----------------------------------------------------------------------------------------------

def _settle(order_id: int, found: dict[str, gateway.Intent], cutoff: datetime, report: Report) -> None:
    order = orders.get(order_id)
    payment = _latest_payment(order.id)
    try:
        intent = _intent_of(order, payment, found)
        if order.status in NOT_GOING_AHEAD:
            if intent is not None and intent.status in HELD:
                _void(order, payment, intent, report, f"its order is {order.status.replace('_', ' ')}")
            elif intent is not None and payment is not None:
                payments.record(payment.id, intent)  # our row said held; the PSP says otherwise
                if intent.status == "captured" and order.status == "payment_failed":  # (a cancelled one was refunded)
                    _flag(order, intent, "The payment was captured but the order failed: refund it.")
                    report.flagged += 1
        elif order.status == "pending_payment" and order.created_at < cutoff:
            _settle_stale(order, payment, intent, report)
    except gateway.PaymentError as error:
        db.session.rollback()
        log.warning("reconciling order %s: the PSP could not be asked: %s", order.id, error.message)
        report.errors += 1


def _settle_stale(order: Order, payment: Payment | None, intent: gateway.Intent | None, report: Report) -> None:
    """A checkout that never finished: complete it if the PSP authorized it, else fail it."""
    if intent is not None and intent.status in ("authorized", "captured"):
        _complete(order, payment, intent, report)
        return
    if intent is not None and intent.status == "requires_action":  # abandoned at the bank: close that door first
        intent = _void(order, payment, intent, report, "the shopper did not finish 3-D Secure")
    elif intent is not None and payment is not None:
        payments.record(payment.id, intent)
    elif payment is not None and payment.provider == "stripe":
        payments.failed(payment.id, "The PSP never authorized this payment.")
    _fail(order, f"Payment not completed within {PAYMENT_MINUTES} minutes; the order was closed by reconciliation.")
    report.failed += 1


def _complete(order: Order, payment: Payment | None, intent: gateway.Intent, report: Report) -> None:
    if payment is not None:
        payments.record(payment.id, intent)
    paid = "authorized" if intent.status == "authorized" else "paid"
    try:
        orders.confirm(order.id, payment_status=paid, actor=ACTOR,
                       message=f"Payment {paid} at the PSP; the order was completed by reconciliation.")
    except reservations.Shortage:
        db.session.rollback()
        _void(order, payment, intent, report, "its items sold out before it was completed")
        _fail(order, "The items sold out before the payment was found; the payment was voided.")
        report.failed += 1
        return
    report.completed += 1


def _void(order: Order | None, payment: Payment | None, intent: gateway.Intent, report: Report,
          why: str) -> gateway.Intent:
    """Release the authorization at the PSP (the checkout's own key: a void repeated is the same void)."""
    if intent.status == "captured":  # money already taken: a refund is the merchant's call
        if order is not None:
            _flag(order, intent, "The payment was captured but the order did not go ahead: refund it.")
            report.flagged += 1
        return intent
    voided = gateway.void(intent.id, key=f"void:{intent.id}")
    report.voided += 1
    if payment is not None:
        payments.record(payment.id, voided)
    if order is not None:
        orders.set_payment_status(order.id, "voided", message=f"Reconciliation voided the authorization: {why}.",
                                  actor=ACTOR)
    else:
        log.warning("voided PaymentIntent %s: %s", intent.id, why)
    return voided


def _void_orphan(intent: gateway.Intent, report: Report) -> None:
    try:
        _void(None, None, intent, report, "no order of this store has it")
    except gateway.PaymentError as error:
        log.warning("voiding PaymentIntent %s failed: %s", intent.id, error.message)
        report.errors += 1


def _fail(order: Order, message: str) -> None:
    orders.fail(order.id, message=message, actor=ACTOR)
    pricing.release(order)
    db.session.commit()


def _latest_payment(order_id: int) -> Payment | None:
    return db.session.scalar(sa.select(Payment).where(Payment.order_id == order_id, Payment.provider == "stripe")
                             .order_by(Payment.id.desc()).limit(1))


def _intent_of(order: Order, payment: Payment | None, found: dict[str, gateway.Intent]) -> gateway.Intent | None:
    """What the PSP says of the order's payment now."""
    if payment is None:
        return None
    if payment.intent_id:
        return gateway.retrieve(payment.intent_id)
    return found.get(order.token) or gateway.find(order.token)  # the answer to the authorization was lost


# -- confirmed orders the PSP does not back --------------------------------------------------------------------------

def _check_confirmed(batch: int, after_id: int, report: Report) -> tuple[int, int]:
    """Compare a batch of recent confirmed card orders with the PSP; (how many, the last id)."""
    since = datetime.now(timezone.utc) - timedelta(hours=RECHECK_HOURS)
    latest_intent = (sa.select(Payment.intent_id).where(Payment.order_id == Order.id, Payment.provider == "stripe")
                     .order_by(Payment.id.desc()).limit(1).correlate(Order).scalar_subquery())
    rows = db.session.execute(
        sa.select(Order.id, latest_intent)
        .where(Order.id > after_id, Order.status.in_(GOING_AHEAD[:-1]), Order.payment_method == "card",
               Order.created_at >= since, sa.or_(Order.risk.is_(None), ~Order.risk.has_key("payment_issue")))
        .order_by(Order.id).limit(batch)).all()
    db.session.commit()
    for order_id, intent_id in rows:
        try:
            intent = gateway.retrieve(intent_id) if intent_id else gateway.find(orders.get(order_id).token)
        except gateway.PaymentError as error:
            log.warning("reconciling order %s: the PSP could not be asked: %s", order_id, error.message)
            report.errors += 1
            continue
        if intent is None or intent.status not in ("authorized", "captured"):
            said = f"it is {intent.status}" if intent else "it has no payment for it"
            _flag(orders.get(order_id), intent, f"The PSP does not hold this order's payment ({said}): "
                  "do not ship before it is paid.")
            report.flagged += 1
    return len(rows), rows[-1][0] if rows else after_id


def _flag(order: Order, intent: gateway.Intent | None, message: str) -> None:
    """Written once: a flagged order is not flagged again."""
    order = db.session.scalar(sa.select(Order).where(Order.id == order.id).with_for_update())
    if "payment_issue" not in (order.risk or {}):
        order.risk = {**(order.risk or {}), "payment_issue": {
            "message": message, "psp_status": intent.status if intent else None,
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}}
        db.session.add(OrderEvent(order_id=order.id, kind="payment_mismatch", message=message, actor=ACTOR))
    db.session.commit()
