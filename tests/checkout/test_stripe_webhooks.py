"""POST /webhooks/stripe: the signature is checked, each event settles its
order once (a replay does nothing), events are not taken at their word."""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid

import requests
from flask import current_app

from app.extensions import db
from app.payments.models import PaymentEvent
from tests.checkout.test_checkout_api import _orders, shop  # noqa: F401  (the fixture)
from tests.checkout.test_checkout_api import Shopper, _emulator
from tests.conftest import as_store


def _secret(app) -> str:
    with app.app_context():
        return current_app.config["STRIPE_WEBHOOK_SECRET"]


def _events(app, kind: str) -> list[dict]:
    with app.app_context():
        key = current_app.config["STRIPE_SECRET_KEY"]
    return requests.get(f"{_emulator(app)}/v1/events", params={"type": kind}, timeout=5,
                        headers={"Authorization": f"Bearer {key}"}).json()["data"]


def _deliver(app, event: dict, secret: str | None = None):
    body = json.dumps(event)
    stamp = int(time.time())
    signature = hmac.new((secret or _secret(app)).encode(), f"{stamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return app.test_client().post("/webhooks/stripe", data=body, headers={
        "Host": "localhost", "Content-Type": "application/json", "Stripe-Signature": f"t={stamp},v1={signature}"})


def _handled_events(app, shop) -> int:
    with as_store(app, shop.store):
        return db.session.query(PaymentEvent).count()


def test_the_webhook_settles_an_order_whose_shopper_never_came_back_once(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    started = shopper.checkout(str(uuid.uuid4()), card="pm_card_authenticationRequired")
    assert started.status_code == 202
    bank = started.json["next_action"]["redirect_url"]
    token = requests.get(bank, timeout=5).text.split('name="token" value="')[1].split('"')[0]
    requests.post(bank.split("?")[0], data={"token": token, "outcome": "complete"}, timeout=5,
                  allow_redirects=False)  # the shopper closed the tab before the return
    assert _orders(app, shop)[0][0] == "pending_payment"
    intent_id = bank.split("/3ds/")[1].split("?")[0]
    [event] = [e for e in _events(app, "payment_intent.amount_capturable_updated")
               if e["data"]["object"]["id"] == intent_id]

    first = _deliver(app, event)
    assert first.status_code == 200 and first.json == {"received": True, "handled": True}
    assert _orders(app, shop)[0][:2] == ("confirmed", "authorized")
    replay = _deliver(app, event)
    assert replay.status_code == 200 and replay.json["handled"] is False
    assert _handled_events(app, shop) == 1


def test_a_forged_or_unsigned_event_is_refused_and_changes_nothing(app, shop):
    shopper = Shopper(app, shop)
    shopper.add("Linen Tee")
    started = shopper.checkout(str(uuid.uuid4()), card="pm_card_authenticationRequired")
    intent_id = started.json["next_action"]["redirect_url"].split("/3ds/")[1].split("?")[0]
    forged = {"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": "payment_intent.succeeded",
              "data": {"object": {"id": intent_id, "object": "payment_intent",
                                  "metadata": {"store_id": str(shop.store.id)}}}}
    assert _deliver(app, forged, secret="whsec_not_ours").status_code == 400
    unsigned = app.test_client().post("/webhooks/stripe", json=forged, headers={"Host": "localhost"})
    assert unsigned.status_code == 400
    # Even a correctly signed event is not taken at its word: Stripe says the intent still waits for 3-D Secure.
    assert _deliver(app, forged).status_code == 200
    assert _orders(app, shop)[0][0] == "pending_payment"
