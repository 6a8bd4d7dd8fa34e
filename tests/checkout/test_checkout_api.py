"""POST /api/v1/checkout against the Stripe emulator (a process of its own):
the order is made and paid once per idempotency key, declines leave the
cart whole for another card, 3-D Secure comes back, a lost answer after
the charge is found again, and bad input changes nothing."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.checkout import shipping
from app.extensions import db
from app.orders.models import Order
from tests.cart.helpers import levels, make_shop
from tests.checkout.helpers import ADDRESS, Shopper, emulator_url as _emulator, intent as _intent
from tests.checkout.helpers import orders_of as _orders, payment_intent_of as _payment_intent_of, shop_with_rate
from tests.checkout.helpers import stats as _stats
from tests.conftest import as_store

ACTOR = "owner@example.com"


@pytest.fixture
def shop(app, make_store):
    return shop_with_rate(app, make_store)


def test_a_card_checkout_makes_one_confirmed_order_and_sells_the_stock(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee", 2)
    key = str(uuid.uuid4())
    placed = shopper.checkout(key)
    assert placed.status_code == 201, placed.json
    order = placed.json["order"]
    assert order["status"] == "confirmed" and order["payment_status"] == "authorized"
    assert order["name"] == "#1001" and order["total"] == {"amount": 4500, "currency": shop.store.currency}
    assert order["shipping"]["amount"] == 500 and [line["quantity"] for line in order["lines"]] == [2]
    assert levels(app, shop, shop.variants["Linen Tee"]) == (3, 0)  # sold: on hand and reserved both dropped
    assert shopper.call("GET", "/cart").json["cart"]["lines"] == []
    intent = _intent(app, _payment_intent_of(app, shop, order["token"]))
    assert intent["status"] == "requires_capture" and intent["amount"] == 4500

    again = shopper.checkout(key)
    assert again.status_code == 201 and again.json == placed.json and again.headers["Idempotent-Replayed"] == "true"
    other = shopper.checkout(key, email="someone@example.com")
    assert other.status_code == 422 and other.json["error"]["code"] == "key_reused"
    assert _orders(app, shop) == [("confirmed", "authorized", 1001, 4500)]
    shown = shopper.call("GET", f"/orders/{order['token']}")
    assert shown.status_code == 200 and shown.json["order"]["number"] == 1001


def test_a_declined_card_keeps_the_cart_and_another_card_pays(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Stoneware Mug", 3)
    declined = shopper.checkout(str(uuid.uuid4()), card="pm_card_chargeDeclinedInsufficientFunds")
    assert declined.status_code == 402, declined.json
    assert "insufficient funds" in declined.json["error"]["message"].lower()
    assert declined.json["error"]["order"]["status"] == "payment_failed"
    assert levels(app, shop, shop.variants["Stoneware Mug"]) == (3, 3)  # still held, for the cart
    assert shopper.call("GET", "/cart").json["cart"]["item_count"] == 3

    paid = shopper.checkout(str(uuid.uuid4()), card="pm_card_mastercard")
    assert paid.status_code == 201, paid.json
    assert levels(app, shop, shop.variants["Stoneware Mug"]) == (0, 0)
    assert [status for status, *_ in _orders(app, shop)] == ["payment_failed", "confirmed"]


def test_a_manual_payment_confirms_the_order_awaiting_payment(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    placed = shopper.checkout(str(uuid.uuid4()), card=None)
    assert placed.status_code == 201, placed.json
    assert (placed.json["order"]["status"], placed.json["order"]["payment_status"]) == ("confirmed", "awaiting")
    assert levels(app, shop, shop.variants["Linen Tee"]) == (4, 0)


def test_two_submissions_with_one_key_make_one_order_and_one_payment_intent(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    before = _stats(app)
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda _: shopper.checkout(key), range(2)))
    assert sorted(answer.status_code for answer in answers) == [201, 201]
    assert answers[0].json == answers[1].json
    assert len(_orders(app, shop)) == 1
    assert _stats(app)["payment_intents"] - before["payment_intents"] == 1


def test_a_lost_answer_after_the_charge_finds_the_payment_instead_of_charging_again(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    before = _stats(app)
    requests.post(f"{_emulator(app)}/_emulator/faults", json={"timeout_after_charge": 1}, timeout=5).raise_for_status()
    try:
        placed = shopper.checkout(str(uuid.uuid4()))
        left = requests.get(f"{_emulator(app)}/_emulator/faults", timeout=5).json()
    finally:
        requests.post(f"{_emulator(app)}/_emulator/faults", json={}, timeout=5)
    assert left["timeout_after_charge"] == 0  # the answer to the charge was lost
    assert placed.status_code == 201, placed.json
    after = _stats(app)
    assert after["payment_intents"] - before["payment_intents"] == 1
    assert after["charges"] - before["charges"] == 1
    assert _orders(app, shop)[0][:2] == ("confirmed", "authorized")


def test_three_d_secure_sends_the_shopper_to_the_bank_and_back(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    started = shopper.checkout(str(uuid.uuid4()), card="pm_card_authenticationRequired")
    assert started.status_code == 202, started.json
    token, bank = started.json["order"]["token"], started.json["next_action"]["redirect_url"]
    assert _orders(app, shop)[0][0] == "pending_payment"
    page = requests.get(bank, timeout=5)
    assert page.status_code == 200
    done = requests.post(bank.split("?")[0], data={**_form_fields(page.text), "outcome": "complete"}, timeout=5,
                         allow_redirects=False)
    assert done.status_code in (302, 303) and f"/checkout/return/{token}" in done.headers["Location"]
    back = shopper.flask.get(f"/checkout/return/{token}", headers={"Host": shop.host})
    assert back.status_code == 303 and back.headers["Location"].endswith(f"/orders/{token}")
    assert _orders(app, shop)[0][:2] == ("confirmed", "authorized")
    assert levels(app, shop, shop.variants["Linen Tee"]) == (4, 0)


def _form_fields(html: str) -> dict:
    import re

    return dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html))


@pytest.mark.parametrize("changes, headers, status", [
    ({}, {}, 400),  # no Idempotency-Key
    ({"email": "not an email"}, None, 400),
    ({"shipping_address": {**ADDRESS, "country": "XX"}}, None, 422),
    ({"shipping_address": {**ADDRESS, "line1": "\x00"}}, None, 400),
    ({"shipping_method": "999999"}, None, 422),
    ({"payment_method": {"type": "cheque"}}, None, 400),
    ({"payment_method": {"type": "card", "id": "4242424242424242"}}, None, 400),
    ({"discount_code": "NOPE"}, None, 422),
    ({"cart": "forged"}, None, 400),
])
def test_bad_checkouts_are_refused_and_change_nothing(app, shop, changes, headers, status):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    body = {"email": "ada@example.com", "shipping_address": ADDRESS, "shipping_method": shop.rate,
            "payment_method": {"type": "card", "id": "pm_card_visa"}, **changes}
    headers = {"Idempotency-Key": str(uuid.uuid4())} if headers is None else headers
    refused = shopper.call("POST", "/checkout", body, **headers)
    assert refused.status_code == status, refused.json
    assert _orders(app, shop) == []
    assert levels(app, shop, shop.variants["Linen Tee"]) == (5, 1)


def test_a_confirmed_order_is_published_to_the_merchants_webhooks(app, shop, monkeypatch):
    from app.webhooks import service as webhooks
    from app.webhooks.models import WebhookDelivery
    from tests.conftest import run_effects

    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)  # the endpoint is on loopback
    with as_store(app, shop.store):
        webhooks.create_endpoint(MultiDict([("url", "http://127.0.0.1:9/orders"), ("topics", "orders/create"),
                                            ("topics", "orders/paid")]), actor=ACTOR)
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    placed = shopper.checkout(str(uuid.uuid4()))
    assert placed.status_code == 201
    with as_store(app, shop.store):
        run_effects("webhooks")
        delivered = db.session.execute(sa.select(WebhookDelivery.topic, WebhookDelivery.payload)
                                       .order_by(WebhookDelivery.topic)).all()
    assert [topic for topic, _ in delivered] == ["orders/create", "orders/paid"]
    assert all(payload["order"]["token"] == placed.json["order"]["token"] for _, payload in delivered)


def test_paid_after_the_stock_went_elsewhere_voids_the_payment(app, shop):
    from app.inventory import reservations
    from app.inventory.models import Reservation

    shopper = Shopper(app, shop)
    shopper.add("Stoneware Mug", 3)
    started = shopper.checkout(str(uuid.uuid4()), card="pm_card_authenticationRequired")
    assert started.status_code == 202
    token, bank = started.json["order"]["token"], started.json["next_action"]["redirect_url"]
    with as_store(app, shop.store):  # the shopper dawdles at the bank: the order's holds lapse and are swept
        db.session.execute(sa.update(Reservation).where(Reservation.holder == f"order:{token}")
                           .values(expires_at=sa.func.now() - sa.text("interval '1 minute'")))
        db.session.commit()
        reservations.sweep_expired()
    rival = Shopper(app, shop)
    rival.add("Stoneware Mug", 3)  # ... and someone else takes every mug
    page = requests.get(bank, timeout=5)
    requests.post(bank.split("?")[0], data={**_form_fields(page.text), "outcome": "complete"}, timeout=5,
                  allow_redirects=False)
    back = shopper.flask.get(f"/checkout/return/{token}", headers={"Host": shop.host})
    assert back.status_code == 303
    assert _orders(app, shop)[0][:2] == ("payment_failed", "failed")
    assert _intent(app, _payment_intent_of(app, shop, token))["status"] == "canceled"  # the authorization voided
    assert levels(app, shop, shop.variants["Stoneware Mug"]) == (3, 3)  # the rival's hold, untouched


def test_a_code_limited_to_ten_uses_discounts_ten_of_fifty_concurrent_checkouts(app, make_store):
    from app.checkout import discounts

    shop = make_shop(app, make_store, {"Linen Tee": 100})
    with as_store(app, shop.store):
        zone = shipping.create_zone(MultiDict({"name": "Home", "places": "US"}), actor=ACTOR)
        shop.rate = str(shipping.create_rate(zone.id, MultiDict({"name": "Parcel", "kind": "flat", "price": "5.00"}),
                                             actor=ACTOR).id)
        discounts.create(MultiDict({"code": "TEN4TEN", "kind": "percentage", "value": "10", "usage_limit": "10",
                                    "active": "on"}), actor=ACTOR)
    shoppers = [Shopper(app, shop) for _ in range(50)]
    for shopper in shoppers:
        shopper.add("Linen Tee")
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda s: s.checkout(str(uuid.uuid4()), card=None, discount_code="ten4ten"),
                                shoppers))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * 10 + [422] * 40, statuses
    assert {answer.json["error"]["code"] for answer in answers if answer.status_code == 422} == {"used_up"}
    discounted = [a.json["order"] for a in answers if a.status_code == 201]
    assert all(order["discount"]["amount"] == 200 for order in discounted)
    with as_store(app, shop.store):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 10
    assert levels(app, shop, shop.variants["Linen Tee"]) == (90, 40)  # the refused carts still hold their tee
