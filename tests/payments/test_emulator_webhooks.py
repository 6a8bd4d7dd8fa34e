"""The emulator's events and signed webhooks, checked with the SDK's own
verification (stripe.Webhook.construct_event) against a real receiver."""
from __future__ import annotations

import json
import uuid

import pytest
import stripe

from tests.conftest import wait_until
from tests.payments.conftest import WebhookReceiver

RETURN_URL = "https://shop.example.test/r"


def types_about(receiver, object_id: str) -> set[str]:
    return {event["type"] for event in receiver.events_about(object_id)}


def test_events_are_signed_so_the_sdk_verifies_them(emulator, client):
    key = str(uuid.uuid4())
    intent = client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "usd", "capture_method": "manual", "payment_method": "pm_card_visa",
        "confirm": True, "return_url": RETURN_URL}, options={"idempotency_key": key})
    client.v1.payment_intents.capture(intent.id)
    expected = {"payment_intent.created", "payment_intent.amount_capturable_updated", "payment_intent.succeeded"}

    wait_until(lambda: types_about(emulator.receiver, intent.id) == expected, "the PaymentIntent's events")
    wait_until(lambda: types_about(emulator.receiver, intent.latest_charge) == {"charge.succeeded", "charge.captured"},
               "the charge's events")

    for headers, body in emulator.receiver.received():
        event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], emulator.webhook_secret)
        assert event.id.startswith("evt_") and event.object == "event" and event.livemode is False
        assert event.api_version
    created = next(e for e in emulator.receiver.events_about(intent.id) if e["type"] == "payment_intent.created")
    assert created["request"]["idempotency_key"] == key and created["request"]["id"].startswith("req_")
    headers, body = emulator.receiver.received()[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.replace(b"usd", b"eur"), headers["Stripe-Signature"],
                                       emulator.webhook_secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], "whsec_someoneElsesSecret")


def test_a_failing_receiver_gets_the_event_again(emulator, client):
    emulator.receiver.fail_next(2)

    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})

    wait_until(lambda: len(emulator.receiver.events_about(intent.id)) == 3, "two failures and a delivery")
    attempts = emulator.receiver.events_about(intent.id)
    assert len({event["id"] for event in attempts}) == 1  # the same event each time
    stats = emulator.stats()
    assert (stats["webhook_failures"], stats["webhook_deliveries"]) == (2, 1)
    event = client.v1.events.retrieve(attempts[0]["id"])
    assert event.pending_webhooks == 0 and event.data.object.id == intent.id


def test_declines_and_refunds_have_their_events(emulator, client):
    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.create(params={
            "amount": 1000, "currency": "usd", "payment_method": "pm_card_chargeDeclined", "confirm": True,
            "return_url": RETURN_URL})
    paid = client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True, "return_url": RETURN_URL})
    refund = client.v1.refunds.create(params={"payment_intent": paid.id, "amount": 400})

    failed_id = declined.value.error.payment_intent.id
    wait_until(lambda: "payment_intent.payment_failed" in types_about(emulator.receiver, failed_id), "the failure")
    wait_until(lambda: "charge.refunded" in types_about(emulator.receiver, paid.latest_charge), "charge.refunded")
    wait_until(lambda: "refund.created" in types_about(emulator.receiver, refund.id), "refund.created")
    listed = client.v1.events.list(params={"type": "refund.created"})
    assert [event.data.object.id for event in listed.data] == [refund.id]


def test_endpoints_made_through_the_api_get_the_events_they_ask_for(emulator, client):
    own = WebhookReceiver()
    try:
        endpoint = client.v1.webhook_endpoints.create(params={"url": own.url,
                                                              "enabled_events": ["payment_intent.succeeded"]})
        assert endpoint.secret.startswith("whsec_")
        assert "secret" not in client.v1.webhook_endpoints.retrieve(endpoint.id)  # shown on creation only

        intent = client.v1.payment_intents.create(params={
            "amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
            "return_url": RETURN_URL})

        wait_until(lambda: "payment_intent.succeeded" in types_about(emulator.receiver, intent.id), "the event")
        wait_until(lambda: own.received(), "the endpoint's delivery")
        assert types_about(own, intent.id) == {"payment_intent.succeeded"}
        headers, body = own.received()[0]
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], endpoint.secret)
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(body, headers["Stripe-Signature"], emulator.webhook_secret)

        client.v1.webhook_endpoints.delete(endpoint.id)
        later = client.v1.payment_intents.create(params={
            "amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
            "return_url": RETURN_URL})
        wait_until(lambda: "payment_intent.succeeded" in types_about(emulator.receiver, later.id), "the later event")
        assert types_about(own, later.id) == set()
    finally:
        own.close()


def test_webhook_endpoint_parameters_are_checked(emulator, client):
    for params in ({"enabled_events": ["*"]}, {"url": "ftp://x", "enabled_events": ["*"]},
                   {"url": "https://x.test/h", "enabled_events": ["no.such_event"]}):
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.webhook_endpoints.create(params=params)
    assert emulator.stats()["objects"]["webhook_endpoints"] == 0


def test_events_payload_is_the_object_as_it_was(emulator, client):
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    client.v1.payment_intents.cancel(intent.id)

    wait_until(lambda: len(types_about(emulator.receiver, intent.id)) == 2, "both events")
    statuses = {event["type"]: event["data"]["object"]["status"] for event in emulator.receiver.events_about(intent.id)}
    assert statuses == {"payment_intent.created": "requires_payment_method", "payment_intent.canceled": "canceled"}
    _, body = emulator.receiver.received()[0]
    assert json.loads(body)["object"] == "event"
