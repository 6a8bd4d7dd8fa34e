"""Reconciliation against the Stripe emulator: each inconsistency is made by
hand (a real order placed through the API, then its rows edited or the PSP
called directly), the job runs in-process, the repair is checked, and a
second run changes nothing."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import requests
import sqlalchemy as sa
import stripe
from flask import current_app

from app.extensions import db
from app.orders import service as orders
from app.orders.models import Order, OrderEvent
from app.payments import reconcile
from app.payments.models import Payment
from tests.cart.helpers import levels
from tests.checkout.test_checkout_api import Shopper, shop  # noqa: F401 - the fixture
from tests.conftest import as_store

AGED = timedelta(minutes=31)  # past the checkout's PAYMENT_MINUTES


def _psp(app) -> stripe.StripeClient:
    with app.app_context():
        return stripe.StripeClient(current_app.config["STRIPE_SECRET_KEY"],
                                   base_addresses={"api": current_app.config["STRIPE_API_BASE"]})


def _state(app, shop) -> list[tuple]:
    """Every order with its payments and timeline, as the database has them."""
    with as_store(app, shop.store):
        rows = []
        for order in db.session.scalars(sa.select(Order).order_by(Order.id)):
            payments = [(p.status, p.intent_id) for p in orders.payments_of(order.id)]
            events = [e.kind for e in orders.events_of(order.id)]
            rows.append((order.token, order.status, order.payment_status, order.number, order.risk, payments, events))
        return rows


def _run(app, shop) -> dict:
    with as_store(app, shop.store):
        report, _, _ = reconcile.reconcile_store()
        return {key: value for key, value in vars(report).items() if value}


def _twice(app, shop) -> dict:
    """Run once; a second run must change nothing."""
    first = _run(app, shop)
    after = _state(app, shop)
    assert _run(app, shop) == {}
    assert _state(app, shop) == after
    return first


def _age(app, shop, token: str, by: timedelta = AGED) -> None:
    with as_store(app, shop.store):
        db.session.execute(sa.update(Order).where(Order.token == token).values(created_at=Order.created_at - by))
        db.session.commit()


def _set_status(app, shop, token: str, status: str) -> None:
    with as_store(app, shop.store):
        db.session.execute(sa.update(Order).where(Order.token == token).values(status=status))
        db.session.commit()


def _order(app, shop, token: str) -> tuple:
    return next(row for row in _state(app, shop) if row[0] == token)


def _intent_of(app, shop, token: str) -> str:
    with as_store(app, shop.store):
        order_id = db.session.scalar(sa.select(Order.id).where(Order.token == token))
        return db.session.scalar(sa.select(Payment.intent_id).where(Payment.order_id == order_id))


def _three_d_secure(shopper: Shopper, *, finish: bool) -> str:
    """A card checkout sent to the bank; `finish` completes the bank's step (the shopper never comes back)."""
    started = shopper.checkout(str(uuid.uuid4()), card="pm_card_authenticationRequired")
    assert started.status_code == 202, started.json
    if finish:
        bank = started.json["next_action"]["redirect_url"]
        page = requests.get(bank, timeout=5)
        fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page.text))
        done = requests.post(bank.split("?")[0], data={**fields, "outcome": "complete"}, timeout=5,
                             allow_redirects=False)
        assert done.status_code in (302, 303)
    return started.json["order"]["token"]


# -- authorizations whose order is not going ahead -------------------------------------------------------------------

def test_an_authorization_left_on_a_failed_order_is_voided(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    token = _three_d_secure(shopper, finish=True)  # authorized at the PSP, never settled here
    _set_status(app, shop, token, "payment_failed")
    intent_id = _intent_of(app, shop, token)
    assert _psp(app).v1.payment_intents.retrieve(intent_id).status == "requires_capture"
    assert _twice(app, shop) == {"voided": 1}
    assert _psp(app).v1.payment_intents.retrieve(intent_id).status == "canceled"
    _, status, payment_status, _, _, payments, events = _order(app, shop, token)
    assert (status, payment_status, payments) == ("payment_failed", "voided", [("voided", intent_id)])
    assert events[-1] == "payment"


def test_money_captured_for_a_failed_order_is_flagged_for_a_refund(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    token = _three_d_secure(shopper, finish=True)
    _psp(app).v1.payment_intents.capture(_intent_of(app, shop, token))
    _set_status(app, shop, token, "payment_failed")
    assert _twice(app, shop) == {"flagged": 1}
    _, status, _, _, risk, payments, events = _order(app, shop, token)
    assert (status, payments[0][0], events[-1]) == ("payment_failed", "captured", "payment_mismatch")
    assert risk["payment_issue"]["message"] == "The payment was captured but the order failed: refund it."


def test_an_authorization_for_an_order_we_never_made_is_voided(app, shop):
    intent = _psp(app).v1.payment_intents.create({
        "amount": 1234, "currency": "usd", "capture_method": "manual", "confirm": True,
        "payment_method": "pm_card_visa", "payment_method_types": ["card"],
        "metadata": {"order_token": "no-such-order-token-0001", "store_id": str(shop.store.id)}})
    assert intent.status == "requires_capture"
    assert _twice(app, shop) == {"voided": 1}
    assert _psp(app).v1.payment_intents.retrieve(intent.id).status == "canceled"
    assert _state(app, shop) == []


def test_another_stores_authorizations_are_left_alone(app, shop, make_store):
    other = make_store()
    intent = _psp(app).v1.payment_intents.create({
        "amount": 1234, "currency": "usd", "capture_method": "manual", "confirm": True,
        "payment_method": "pm_card_visa", "payment_method_types": ["card"],
        "metadata": {"order_token": "not-ours-order-token-001", "store_id": str(other.id)}})
    assert _run(app, shop) == {}
    assert _psp(app).v1.payment_intents.retrieve(intent.id).status == "requires_capture"


# -- stale pending orders --------------------------------------------------------------------------------------------

def test_a_stale_pending_order_the_psp_authorized_is_completed(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee", 2)
    token = _three_d_secure(shopper, finish=True)
    assert _run(app, shop) == {}  # still within the checkout's time: the shopper may be on the way back
    assert _order(app, shop, token)[1] == "pending_payment"
    _age(app, shop, token)
    assert _twice(app, shop) == {"completed": 1}
    _, status, payment_status, number, _, payments, events = _order(app, shop, token)
    assert (status, payment_status, number) == ("confirmed", "authorized", 1001)
    assert payments[0][0] == "authorized" and events[-1] == "confirmed"
    assert levels(app, shop, shop.variants["Linen Tee"]) == (3, 0)  # sold
    intent_id = _intent_of(app, shop, token)
    assert _psp(app).v1.payment_intents.retrieve(intent_id).status == "requires_capture"  # kept, to capture


def test_a_stale_authorized_order_whose_stock_is_gone_is_voided_and_failed(app, shop):
    from app.inventory import reservations
    from app.inventory import service as inventory

    shopper = Shopper(app, shop)
    shopper.add("Stoneware Mug", 3)
    token = _three_d_secure(shopper, finish=True)
    _age(app, shop, token)
    with as_store(app, shop.store):  # its holds lapsed and the mugs were sold elsewhere
        reservations.release(f"order:{token}")
        inventory.set_on_hand(shop.variants["Stoneware Mug"], shop.location, 0, reason="damaged", actor="test")
    assert _twice(app, shop) == {"voided": 1, "failed": 1}
    _, status, payment_status, number, _, payments, _ = _order(app, shop, token)
    assert (status, payment_status, number, payments[0][0]) == ("payment_failed", "failed", None, "voided")
    assert _psp(app).v1.payment_intents.retrieve(_intent_of(app, shop, token)).status == "canceled"


def test_a_checkout_abandoned_at_the_bank_is_voided_and_failed_and_the_cart_keeps_its_stock(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    token = _three_d_secure(shopper, finish=False)
    _age(app, shop, token)
    assert _twice(app, shop) == {"voided": 1, "failed": 1}
    _, status, _, number, _, payments, events = _order(app, shop, token)
    assert (status, number, payments[0][0]) == ("payment_failed", None, "voided")
    assert events[-1] == "payment_failed"
    assert _psp(app).v1.payment_intents.retrieve(_intent_of(app, shop, token)).status == "canceled"
    assert levels(app, shop, shop.variants["Linen Tee"]) == (5, 1)  # held for the cart again
    assert shopper.call("GET", "/cart").json["cart"]["item_count"] == 1


def test_a_stale_pending_order_the_psp_never_saw_is_failed(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    token = _three_d_secure(shopper, finish=False)
    intent_id = _intent_of(app, shop, token)
    _psp(app).v1.payment_intents.cancel(intent_id)  # the PSP has nothing authorized for it
    with as_store(app, shop.store):  # and we never learnt its id (the answer was lost)
        db.session.execute(sa.update(Payment).where(Payment.intent_id == intent_id)
                           .values(intent_id=None, status="pending"))
        db.session.commit()
    _age(app, shop, token)
    assert _twice(app, shop) == {"failed": 1}
    _, status, _, _, _, payments, _ = _order(app, shop, token)
    assert (status, payments) == ("payment_failed", [("voided", intent_id)])  # found again by its order token


# -- confirmed orders the PSP does not back --------------------------------------------------------------------------

def test_a_confirmed_order_whose_authorization_is_gone_is_flagged_once(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    placed = shopper.checkout(str(uuid.uuid4()))
    assert placed.status_code == 201, placed.json
    token = placed.json["order"]["token"]
    healthy = Shopper(app, shop)
    healthy.add("Stoneware Mug")
    assert healthy.checkout(str(uuid.uuid4()), card="pm_card_mastercard").status_code == 201
    _psp(app).v1.payment_intents.cancel(_intent_of(app, shop, token))  # voided behind our back
    assert _twice(app, shop) == {"flagged": 1}
    _, status, _, _, risk, _, events = _order(app, shop, token)
    assert status == "confirmed" and risk["payment_issue"]["psp_status"] == "voided"
    assert "do not ship" in risk["payment_issue"]["message"] and events[-1] == "payment_mismatch"
    with as_store(app, shop.store):
        flagged = db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent)
                                    .where(OrderEvent.kind == "payment_mismatch"))
    assert flagged == 1  # the healthy order was not flagged


def test_a_manual_order_is_not_compared_with_the_psp(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    assert shopper.checkout(str(uuid.uuid4()), card=None).status_code == 201
    assert _twice(app, shop) == {}


# -- the job ---------------------------------------------------------------------------------------------------------

def test_a_psp_failure_is_counted_and_repaired_by_the_job_next_run(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    token = _three_d_secure(shopper, finish=True)
    _age(app, shop, token)
    base, intent_id = _psp_base(app), _intent_of(app, shop, token)
    faults = {"error_rate": 1.0, "paths": [f"/v1/payment_intents/{intent_id}"]}  # only this intent's calls fail
    requests.post(f"{base}/_emulator/faults", json=faults, timeout=5).raise_for_status()
    try:
        assert _run(app, shop) == {"errors": 1}
    finally:
        requests.post(f"{base}/_emulator/faults", json={}, timeout=5).raise_for_status()
    assert _order(app, shop, token)[1] == "pending_payment"
    with app.app_context():
        report = reconcile.reconcile_payments()  # every store, in-process
    assert report["completed"] >= 1 and set(report) == {"voided", "completed", "failed", "flagged", "errors"}
    assert _order(app, shop, token)[1:4] == ("confirmed", "authorized", 1001)
    assert _run(app, shop) == {}


def test_the_job_is_registered_every_ten_minutes(app):
    from app.jobs import rq_connection
    from app.scheduler import build_scheduler

    with app.app_context():
        jobs = build_scheduler(rq_connection()).get_jobs()
    assert ("app.payments.reconcile.reconcile_payments", "payments", 600) in {
        (job.func_name, job.queue_name, job.interval) for job in jobs}


def _psp_base(app) -> str:
    with app.app_context():
        return current_app.config["STRIPE_API_BASE"]


def test_a_store_is_reconciled_a_batch_at_a_time(app, shop):
    tokens = []
    for title in ("Linen Tee", "Stoneware Mug"):
        shopper = Shopper(app, shop)
        shopper.add(title)
        tokens.append(_three_d_secure(shopper, finish=False))
        _age(app, shop, tokens[-1])
    with as_store(app, shop.store):
        first, full, _ = reconcile.reconcile_store(batch=1)
        assert (first.failed, full) == (1, True)  # the job comes back to a full store in its next pass
        second, _, _ = reconcile.reconcile_store(batch=1)
        assert second.failed == 1
    assert [_order(app, shop, token)[1] for token in tokens] == ["payment_failed", "payment_failed"]
