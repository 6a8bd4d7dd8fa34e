"""Stripe's webhooks: POST /webhooks/stripe on the platform host.

The signature (Stripe-Signature, HMAC-SHA256 with the endpoint's secret) is
checked on the raw body before anything else; a forged or stale event is a
400 and changes nothing. The PaymentIntent's metadata names the store. Each
event is handled once (its id is kept after it was handled; a replay is
answered 200 and does nothing). Events may come late, twice or out of
order, so none is taken at its word: the PaymentIntent is read again from
Stripe and the order settled by what it says now (app.checkout.saga.resume).
A failure answers 500, and Stripe delivers the event again later.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
import stripe
from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy.dialects.postgresql import insert

from app.checkout import saga
from app.extensions import db
from app.orders import service as orders
from app.payments import service as payments
from app.payments.models import PaymentEvent
from tenants.context import store_context
from tenants.models import Store, placement_of

bp = Blueprint("payment_webhooks", __name__)
log = logging.getLogger(__name__)
HANDLED = ("payment_intent.", "charge.")


@bp.post("/webhooks/stripe")
def stripe_webhook():
    if not g.get("on_platform"):
        return jsonify(error={"code": "not_found", "message": "Webhooks go to the platform's host."}), 404
    try:
        event = stripe.Webhook.construct_event(request.get_data(), request.headers.get("Stripe-Signature", ""),
                                               current_app.config["STRIPE_WEBHOOK_SECRET"])
    except (ValueError, stripe.SignatureVerificationError):
        return jsonify(error={"code": "invalid_signature", "message": "The signature does not match."}), 400
    if not event.type.startswith(HANDLED):
        return jsonify(received=True, handled=False)
    intent_id, store_id = _intent_and_store(event.data.object.to_dict())
    store = db.session.get(Store, store_id) if store_id else None
    if intent_id is None or store is None or store.status != "active":
        return jsonify(received=True, handled=False)
    with store_context(placement_of(store)):
        handled = handle(event.id, event.type, intent_id)
    return jsonify(received=True, handled=handled)


def handle(event_id: str, kind: str, intent_id: str) -> bool:
    """In the store's context: settle the intent's order, once per event."""
    if db.session.scalar(sa.select(sa.exists().where(PaymentEvent.event_id == event_id))):
        db.session.commit()
        return False
    payment = payments.of_intent(intent_id)
    if payment is not None:
        saga.resume(orders.get(payment.order_id))
    db.session.execute(insert(PaymentEvent).values(event_id=event_id, type=kind[:80]).on_conflict_do_nothing())
    db.session.commit()
    return True


def _intent_and_store(obj) -> tuple[str | None, int | None]:
    if obj.get("object") == "payment_intent":
        intent_id = obj.get("id")
    else:
        intent_id = obj.get("payment_intent")
    raw = (obj.get("metadata") or {}).get("store_id", "")
    store_id = int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 19 else None
    return (intent_id if isinstance(intent_id, str) else None), store_id
