"""The fraud rules in the checkout (POST /api/v1/checkout against the Stripe
emulator): a refused checkout asks nothing of the card and gives the stock
back to the cart; a held one is confirmed, flagged, and waits for review;
repeated orders from one buyer are counted from real rows."""
from __future__ import annotations

import uuid
from types import SimpleNamespace

import sqlalchemy as sa

from app.extensions import db
from app.orders import risk
from app.orders import service as orders
from app.orders.models import Order
from app.store import service as store_service
from tests.cart.helpers import levels
from tests.checkout.test_checkout_api import Shopper, _stats, shop  # noqa: F401 - the fixture
from tests.conftest import as_store

ACTOR = "owner@example.com"


def _settings(app, shop, **values) -> None:
    with as_store(app, shop.store):
        store_service.update_settings(values, ACTOR)


def _only_order(app, shop) -> tuple[SimpleNamespace, list[tuple], list[str]]:
    """(order, [(status, captured, card fingerprint)], event kinds), read now."""
    with as_store(app, shop.store):
        order = db.session.scalar(sa.select(Order))
        seen = SimpleNamespace(id=order.id, status=order.status, risk=order.risk, held=risk.needs_review(order))
        return (seen, [(p.status, p.captured, p.card_fingerprint) for p in orders.payments_of(order.id)],
                [e.kind for e in orders.events_of(order.id)])


def test_a_refused_checkout_charges_nothing_and_keeps_the_cart(app, shop):
    _settings(app, shop, fraud_high_risk_countries=["US"], fraud_review_score=10, fraud_decline_score=30)
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee", 2)
    before = _stats(app)
    refused = shopper.checkout(str(uuid.uuid4()))
    assert refused.status_code == 402, refused.json
    assert refused.json["error"]["code"] == "order_refused"
    assert refused.json["error"]["message"] == risk.REFUSAL and "NG" not in str(refused.json)  # no rules told
    assert _stats(app)["payment_intents"] == before["payment_intents"]  # the card was never asked
    order, payments, events = _only_order(app, shop)
    assert (order.status, order.risk["level"], order.risk["score"]) == ("payment_failed", "decline", 35)
    assert [p[0] for p in payments] == ["failed"] and payments[0][2]
    assert events == ["placed", "risk_decline", "payment_failed"]
    assert levels(app, shop, shop.variants["Linen Tee"]) == (5, 2)  # held for the cart again
    assert shopper.call("GET", "/cart").json["cart"]["item_count"] == 2


def test_a_held_checkout_is_confirmed_uncaptured_and_waits_for_review(app, shop):
    _settings(app, shop, fraud_high_risk_countries=["US"], fraud_review_score=30)
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    placed = shopper.checkout(str(uuid.uuid4()))
    assert placed.status_code == 201, placed.json
    order, payments, events = _only_order(app, shop)
    assert (order.status, payments[0][:2]) == ("confirmed", ("authorized", 0))
    assert order.risk == {"score": 35, "level": "review", "reasons": ["Ships to US, on the store's high-risk list"]}
    assert order.held and events == ["placed", "risk_review", "confirmed"]
    with as_store(app, shop.store):
        assert not risk.needs_review(risk.approve(order.id, ACTOR))


def test_a_plain_checkout_is_approved_and_remembers_the_card(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    assert shopper.checkout(str(uuid.uuid4())).status_code == 201
    order, payments, events = _only_order(app, shop)
    assert order.risk == {"score": 0, "level": "approve", "reasons": []} and not order.held
    assert events == ["placed", "confirmed"] and len(payments[0][2]) == 16


def test_a_burst_of_orders_from_one_buyer_is_held(app, shop):
    _settings(app, shop, fraud_max_orders_per_hour=2, fraud_review_score=40)
    answers = []
    for _ in range(3):  # a fresh cart each time, the same email, IP address and card
        shopper = Shopper(app, shop)
        shopper.add("Stoneware Mug")
        answers.append(shopper.checkout(str(uuid.uuid4())))
    assert [answer.status_code for answer in answers] == [201, 201, 201]
    with as_store(app, shop.store):
        seen = list(db.session.scalars(sa.select(Order.risk).order_by(Order.id)))
    assert [r["level"] for r in seen] == ["approve", "approve", "review"]
    assert seen[-1]["reasons"] == ["2 orders from the same email in the last hour"]


def test_a_rejected_order_is_cancelled_its_authorization_voided_and_its_stock_back(app, shop):
    _settings(app, shop, fraud_high_risk_countries=["US"], fraud_review_score=30)
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee", 2)
    assert shopper.checkout(str(uuid.uuid4())).status_code == 201
    assert levels(app, shop, shop.variants["Linen Tee"]) == (3, 0)
    order, _, _ = _only_order(app, shop)
    with as_store(app, shop.store):
        risk.reject(order.id, ACTOR)
    order, payments, events = _only_order(app, shop)
    assert (order.status, order.risk["review"], order.held) == ("cancelled", "rejected", False)
    assert payments[0][0] == "voided" and events[-2:] == ["risk_rejected", "cancelled"]
    assert levels(app, shop, shop.variants["Linen Tee"]) == (5, 0)
