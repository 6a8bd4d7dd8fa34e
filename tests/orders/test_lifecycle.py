"""After checkout, against the Stripe emulator: fulfilment captures the
payment once, partial fulfilment, cancelling before fulfilment voids and
restocks, refunds (partial, full, above what was captured, twice with one
key), illegal moves change nothing, manual payments, and the mails."""
from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.orders import lifecycle
from app.orders.models import OrderEvent, Refund
from app.orders.service import OrderError
from app.store import service as store_service
from tests.cart.helpers import levels
from tests.checkout.helpers import intent, payment_intent_of, refunds_of_intent, shop_with_rate, stats
from tests.conftest import as_store, run_effects
from tests.orders.helpers import ACTOR, line_ids, mails_to, order_id, place, rows, state


@pytest.fixture
def shop(app, make_store):
    return shop_with_rate(app, make_store)


def _fulfil(app, shop, token, lines=None, **tracking):
    with as_store(app, shop.store):
        return lifecycle.fulfil(order_id(app, shop, token), lines, actor=ACTOR, **tracking).id


def _run(app, shop, queue: str) -> int:
    with as_store(app, shop.store):
        return run_effects(queue)


def _refused(app, shop, fn, status: int) -> str:
    """fn() in the store raises an OrderError with `status`, and no row changed."""
    before = rows(app, shop.store)
    with as_store(app, shop.store):
        with pytest.raises(OrderError) as refused:
            fn()
        db.session.rollback()
    assert refused.value.status == status, refused.value.message
    assert rows(app, shop.store) == before
    return refused.value.message


def test_fulfilling_captures_the_payment_once_and_mails_the_tracking(app, shop):
    order = place(app, shop, {"Linen Tee": 2})
    before = stats(app)
    _fulfil(app, shop, order["token"], carrier="UPS", tracking_number="1Z999AA10123456784",
            tracking_url="https://www.ups.com/track?tracknum=1Z999AA10123456784")
    assert state(app, shop, order["token"]) == ("fulfilled", "authorized", "fulfilled")
    assert _run(app, shop, "payments") == 1
    assert state(app, shop, order["token"]) == ("fulfilled", "paid", "fulfilled")
    with as_store(app, shop.store):
        lifecycle.capture(order_id(app, shop, order["token"]))  # a second run: nothing more
    assert stats(app)["captures"] - before["captures"] == 1
    pi = intent(app, payment_intent_of(app, shop, order["token"]))
    assert pi["status"] == "succeeded" and pi["amount_received"] == order["total"]["amount"]

    _run(app, shop, "notifications")
    shipped = [m for m in mails_to(order["email"]) if "on its way" in m["Subject"]]
    assert len(shipped) == 1
    body = shipped[0].get_content()
    assert "UPS" in body and "1Z999AA10123456784" in body and "https://www.ups.com/track?tracknum=" in body
    with as_store(app, shop.store):
        kinds = db.session.scalars(sa.select(OrderEvent.kind).where(
            OrderEvent.order_id == order_id(app, shop, order["token"])).order_by(OrderEvent.id)).all()
    assert kinds == ["placed", "confirmed", "fulfilled", "captured"]


def test_partial_fulfilment_then_the_rest(app, shop):
    order = place(app, shop, {"Linen Tee": 2, "Stoneware Mug": 1})
    lines = line_ids(app, shop, order["token"])
    _fulfil(app, shop, order["token"], {lines["Linen Tee"]: 1})
    assert state(app, shop, order["token"]) == ("partially_fulfilled", "authorized", "partial")
    _fulfil(app, shop, order["token"])  # everything left
    assert state(app, shop, order["token"]) == ("fulfilled", "authorized", "fulfilled")
    before = stats(app)
    assert _run(app, shop, "payments") == 1  # one capture asked for, by the first shipment
    assert stats(app)["captures"] - before["captures"] == 1
    message = _refused(app, shop, lambda: lifecycle.fulfil(order_id(app, shop, order["token"]), None,
                                                             actor=ACTOR), 409)
    assert "only a confirmed order" in message


@pytest.mark.parametrize("lines", ["another order's", "over", "negative", "none"])
def test_bad_fulfilments_are_refused_and_change_nothing(app, shop, lines):
    order = place(app, shop, {"Linen Tee": 2})
    line = line_ids(app, shop, order["token"])["Linen Tee"]
    wanted = {"another order's": {line + 10_000: 1}, "over": {line: 3}, "negative": {line: -1}, "none": {}}[lines]
    _refused(app, shop, lambda: lifecycle.fulfil(order_id(app, shop, order["token"]), wanted, actor=ACTOR), 422)
    _refused(app, shop, lambda: lifecycle.fulfil(order_id(app, shop, order["token"]), None, actor=ACTOR,
                                                 tracking_url="javascript:alert(1)"), 422)


def test_cancelling_before_fulfilment_voids_restocks_and_refuses_capture(app, shop):
    order = place(app, shop, {"Linen Tee": 2})
    assert levels(app, shop, shop.variants["Linen Tee"]) == (3, 0)
    before = stats(app)
    with as_store(app, shop.store):
        lifecycle.cancel(order_id(app, shop, order["token"]), actor=ACTOR, restock=True, reason="Out of time")
    assert state(app, shop, order["token"]) == ("cancelled", "voided", "unfulfilled")
    assert levels(app, shop, shop.variants["Linen Tee"]) == (5, 0)
    assert intent(app, payment_intent_of(app, shop, order["token"]))["status"] == "canceled"
    assert stats(app)["cancellations"] - before["cancellations"] == 1
    message = _refused(app, shop, lambda: lifecycle.capture(order_id(app, shop, order["token"])), 409)
    assert "cannot be captured" in message
    _refused(app, shop, lambda: lifecycle.fulfil(order_id(app, shop, order["token"]), None, actor=ACTOR), 409)
    _refused(app, shop, lambda: lifecycle.cancel(order_id(app, shop, order["token"]), actor=ACTOR), 409)
    assert stats(app)["captures"] == before["captures"]


def test_cancel_without_restock_keeps_the_stock_sold(app, shop):
    order = place(app, shop, {"Stoneware Mug": 2})
    with as_store(app, shop.store):
        lifecycle.cancel(order_id(app, shop, order["token"]), actor=ACTOR, restock=False)
    assert levels(app, shop, shop.variants["Stoneware Mug"]) == (1, 0)


def test_a_fulfilled_order_cannot_be_cancelled_or_delivered_twice(app, shop):
    order = place(app, shop, {"Linen Tee": 1})
    _fulfil(app, shop, order["token"])
    message = _refused(app, shop, lambda: lifecycle.cancel(order_id(app, shop, order["token"]), actor=ACTOR), 409)
    assert "Refund it instead" in message
    with as_store(app, shop.store):
        lifecycle.mark_delivered(order_id(app, shop, order["token"]), actor=ACTOR)
    assert state(app, shop, order["token"])[0] == "delivered"
    _refused(app, shop, lambda: lifecycle.mark_delivered(order_id(app, shop, order["token"]), actor=ACTOR), 409)


def _captured_order(app, shop, items=None) -> dict:
    order = place(app, shop, items or {"Linen Tee": 2})
    _fulfil(app, shop, order["token"])
    _run(app, shop, "payments")
    return order


def _refund(app, shop, token, amount, key=None, **kwargs):
    with as_store(app, shop.store):
        return lifecycle.refund(order_id(app, shop, token), amount, key=key or str(uuid.uuid4()), actor=ACTOR,
                                **kwargs).id


def test_a_partial_then_a_full_refund(app, shop):
    order = _captured_order(app, shop)  # 2 x 20.00 + 5.00 shipping
    pi = payment_intent_of(app, shop, order["token"])
    _refund(app, shop, order["token"], 1000, reason="Scuffed")
    assert state(app, shop, order["token"])[:2] == ("fulfilled", "partially_refunded")
    assert [r["amount"] for r in refunds_of_intent(app, pi)] == [1000]
    _refund(app, shop, order["token"], 3500)
    assert state(app, shop, order["token"])[:2] == ("refunded", "refunded")
    assert sorted(r["amount"] for r in refunds_of_intent(app, pi)) == [1000, 3500]
    message = _refused(app, shop, lambda: lifecycle.refund(order_id(app, shop, order["token"]), 1, key="k",
                                                             actor=ACTOR), 409)
    assert "all refunded" in message

    _run(app, shop, "notifications")
    refunded = [m for m in mails_to(order["email"]) if "refund of" in m["Subject"]]
    assert len(refunded) == 2 and any("Scuffed" in m.get_content() for m in refunded)


@pytest.mark.parametrize("amount", [0, -100, 4501, 10**15])
def test_refunds_outside_what_was_captured_are_refused(app, shop, amount):
    order = _captured_order(app, shop)
    message = _refused(app, shop, lambda: lifecycle.refund(order_id(app, shop, order["token"]), amount,
                                                             key=str(uuid.uuid4()), actor=ACTOR), 422)
    assert "Refund an amount from" in message
    assert refunds_of_intent(app, payment_intent_of(app, shop, order["token"])) == []


def test_an_uncaptured_payment_cannot_be_refunded(app, shop):
    order = place(app, shop, {"Linen Tee": 1})
    message = _refused(app, shop, lambda: lifecycle.refund(order_id(app, shop, order["token"]), 100,
                                                             key=str(uuid.uuid4()), actor=ACTOR), 409)
    assert "not captured" in message


def test_a_double_submitted_refund_refunds_once(app, shop):
    order = _captured_order(app, shop)
    key = str(uuid.uuid4())
    first = _refund(app, shop, order["token"], 1500, key=key)
    second = _refund(app, shop, order["token"], 1500, key=key)
    assert first == second
    assert [r["amount"] for r in refunds_of_intent(app, payment_intent_of(app, shop, order["token"]))] == [1500]
    with as_store(app, shop.store):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 1


def test_a_refund_with_returned_items_restocks_them(app, shop):
    order = _captured_order(app, shop, {"Linen Tee": 2})
    line = line_ids(app, shop, order["token"])["Linen Tee"]
    assert levels(app, shop, shop.variants["Linen Tee"]) == (3, 0)
    _refund(app, shop, order["token"], 2000, lines={line: 1}, restock=True)
    assert levels(app, shop, shop.variants["Linen Tee"]) == (4, 0)
    _refused(app, shop, lambda: lifecycle.refund(order_id(app, shop, order["token"]), 100, lines={line: 2},
                                                 restock=True, key=str(uuid.uuid4()), actor=ACTOR), 422)


def test_capture_immediately_captures_after_confirmation(app, shop):
    with as_store(app, shop.store):
        store_service.update_settings({"capture": "immediately"}, ACTOR)
    order = place(app, shop, {"Linen Tee": 1})
    before = stats(app)
    _run(app, shop, "notifications")  # the confirmation's handler asks for the capture
    assert _run(app, shop, "payments") == 1
    assert stats(app)["captures"] - before["captures"] == 1
    assert state(app, shop, order["token"]) == ("confirmed", "paid", "unfulfilled")
    with as_store(app, shop.store):  # cancelling now refunds what was captured
        lifecycle.cancel(order_id(app, shop, order["token"]), actor=ACTOR)
    assert state(app, shop, order["token"])[:2] == ("cancelled", "refunded")
    assert [r["amount"] for r in refunds_of_intent(app, payment_intent_of(app, shop, order["token"]))] == [2500]


def test_a_manual_payment_is_marked_paid_and_refunded_without_the_psp(app, shop):
    order = place(app, shop, {"Linen Tee": 1}, card=None)
    assert state(app, shop, order["token"])[:2] == ("confirmed", "awaiting")
    _refused(app, shop, lambda: lifecycle.refund(order_id(app, shop, order["token"]), 100, key="k1",
                                                 actor=ACTOR), 409)
    before = stats(app)
    with as_store(app, shop.store):
        lifecycle.mark_paid(order_id(app, shop, order["token"]), actor=ACTOR)
    _refused(app, shop, lambda: lifecycle.mark_paid(order_id(app, shop, order["token"]), actor=ACTOR), 409)
    _refund(app, shop, order["token"], 2500)
    assert state(app, shop, order["token"])[:2] == ("refunded", "refunded")
    assert stats(app)["refunds"] == before["refunds"]


def test_notes_are_kept_and_bad_ones_refused(app, shop):
    order = place(app, shop, {"Linen Tee": 1})
    with as_store(app, shop.store):
        lifecycle.add_note(order_id(app, shop, order["token"]), "Gift wrap, please.", actor=ACTOR)
    for text in ("", "x" * 2001, "a\x00b"):
        _refused(app, shop, lambda: lifecycle.add_note(order_id(app, shop, order["token"]), text, actor=ACTOR),
                 422)
