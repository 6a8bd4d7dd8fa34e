"""The emulator's PaymentIntents, declines, 3-D Secure and refunds, driven
through the official stripe SDK as the checkout will drive it."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import stripe

RETURN_URL = "https://shop.example.test/checkout/return?order=12"


def authorize(client, amount=1000, currency="usd", method="pm_card_visa", **extra):
    return client.v1.payment_intents.create(params={
        "amount": amount, "currency": currency, "capture_method": "manual", "payment_method": method,
        "confirm": True, "return_url": RETURN_URL, **extra})


def test_manual_capture_holds_then_takes_the_amount(emulator, client):
    intent = authorize(client, metadata={"order": "12"})

    assert intent.status == "requires_capture"
    assert (intent.amount_capturable, intent.amount_received) == (1000, 0)
    assert intent.latest_charge.startswith("ch_") and intent.metadata["order"] == "12"
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.status, charge.captured, charge.payment_method_details.card.last4) == ("succeeded", False, "4242")

    captured = client.v1.payment_intents.capture(intent.id)

    assert (captured.status, captured.amount_received, captured.amount_capturable) == ("succeeded", 1000, 0)
    assert client.v1.charges.retrieve(intent.latest_charge).amount_captured == 1000
    stats = emulator.stats()
    assert (stats["payment_intents"], stats["charges"], stats["captures"]) == (1, 1, 1)


def test_automatic_capture_succeeds_at_once(client):
    intent = client.v1.payment_intents.create(params={
        "amount": 2500, "currency": "eur", "payment_method": "pm_card_mastercard", "confirm": True,
        "payment_method_types": ["card"]})

    assert (intent.status, intent.amount_received, intent.capture_method) == ("succeeded", 2500, "automatic_async")


def test_create_then_confirm_in_two_steps(client):
    intent = client.v1.payment_intents.create(params={"amount": 1500, "currency": "gbp", "capture_method": "manual"})
    assert intent.status == "requires_payment_method"
    assert intent.client_secret.startswith(intent.id + "_secret_")

    confirmed = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa",
                                                                    "return_url": RETURN_URL})

    assert confirmed.status == "requires_capture" and confirmed.payment_method.startswith("pm_")


def test_partial_capture_and_capture_over_capturable_refused(emulator, client):
    intent = authorize(client, amount=1000)

    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 1001})
    assert (refused.value.code, refused.value.param) == ("amount_too_large", "amount_to_capture")
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"  # unchanged

    captured = client.v1.payment_intents.capture(intent.id, params={"amount_to_capture": 600})

    assert (captured.status, captured.amount_received, captured.amount_capturable) == ("succeeded", 600, 0)
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_captured, charge.amount_refunded, charge.refunded) == (600, 400, False)  # Stripe's way
    with pytest.raises(stripe.InvalidRequestError) as over:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 601})
    assert over.value.code == "amount_too_large"
    assert client.v1.refunds.create(params={"payment_intent": intent.id}).amount == 600
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.payment_intents.capture(intent.id)
    assert again.value.code == "payment_intent_unexpected_state"
    assert emulator.stats()["captures"] == 1


def test_cancel_releases_and_refuses_what_follows(client):
    intent = authorize(client)

    canceled = client.v1.payment_intents.cancel(intent.id, params={"cancellation_reason": "abandoned"})

    assert (canceled.status, canceled.cancellation_reason, canceled.amount_capturable) == ("canceled", "abandoned", 0)
    released = client.v1.charges.retrieve(intent.latest_charge)
    assert (released.captured, released.amount_refunded, released.refunded) == (False, 1000, True)
    for refused_call in (lambda: client.v1.payment_intents.cancel(intent.id),
                         lambda: client.v1.payment_intents.capture(intent.id),
                         lambda: client.v1.payment_intents.confirm(intent.id,
                                                                   params={"payment_method": "pm_card_visa"})):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            refused_call()
        assert refused.value.code == "payment_intent_unexpected_state"
        assert "status of canceled" in refused.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.cancel(client.v1.payment_intents.capture(authorize(client).id).id)
    assert refused.value.user_message == (
        "You cannot cancel this PaymentIntent because it has a status of succeeded. Only a PaymentIntent with one of "
        "the following statuses may be canceled: requires_payment_method, requires_capture, requires_confirmation, "
        "requires_action, processing.")


@pytest.mark.parametrize("method, code, decline_code, message", [
    ("pm_card_chargeDeclined", "card_declined", "generic_decline", "Your card was declined."),
    ("pm_card_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds",
     "Your card has insufficient funds."),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card", "Your card has expired."),
    ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
    ("pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error",
     "An error occurred while processing your card. Try again in a little bit."),
])
def test_declines_raise_card_errors_and_the_shopper_may_retry(emulator, client, method, code, decline_code, message):
    with pytest.raises(stripe.CardError) as declined:
        authorize(client, method=method)

    error = declined.value
    assert (error.http_status, error.code, error.error.decline_code, error.user_message) == (
        402, code, decline_code, message)
    intent = client.v1.payment_intents.retrieve(error.error.payment_intent.id)
    assert intent.status == "requires_payment_method"
    assert (intent.last_payment_error.code, intent.last_payment_error.decline_code) == (code, decline_code)
    assert client.v1.charges.retrieve(intent.latest_charge).status == "failed"

    retried = client.v1.payment_intents.confirm(intent.id, params={"payment_method": "pm_card_visa",
                                                                  "return_url": RETURN_URL})

    assert retried.status == "requires_capture" and retried.last_payment_error is None
    stats = emulator.stats()
    assert (stats["declines"], stats["charges"]) == (1, 1)


def test_card_tokenized_with_the_publishable_key_then_charged(emulator, client):
    browser = emulator.client(emulator.publishable_key)
    declining = browser.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4000 0000 0000 0002", "exp_month": 12, "exp_year": 2031, "cvc": "123"}})
    succeeding = browser.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "5555555555554444", "exp_month": 1, "exp_year": 2032, "cvc": "999"}})

    assert (declining.card.brand, declining.card.last4) == ("visa", "0002")
    assert "number" not in declining.card  # only brand and last four digits are kept
    with pytest.raises(stripe.CardError) as declined:
        authorize(client, method=declining.id)
    assert declined.value.error.decline_code == "generic_decline"
    assert authorize(client, method=succeeding.id).status == "requires_capture"
    assert client.v1.payment_methods.retrieve(succeeding.id).card.brand == "mastercard"


@pytest.mark.parametrize("card, code, param", [
    ({"number": "4242424242424241", "exp_month": 12, "exp_year": 2031}, "incorrect_number", "card[number]"),
    ({"number": "42424242", "exp_month": 12, "exp_year": 2031}, "invalid_number", "card[number]"),
    ({"number": "4242424242424242", "exp_month": 13, "exp_year": 2031}, "invalid_expiry_month", "card[exp_month]"),
    ({"number": "4242424242424242", "exp_month": 12, "exp_year": 2020}, "invalid_expiry_year", "card[exp_year]"),
    ({"number": "4242424242424242", "exp_month": 12, "exp_year": 2031, "cvc": "12"}, "invalid_cvc", "card[cvc]"),
])
def test_card_checks_at_tokenization(emulator, card, code, param):
    browser = emulator.client(emulator.publishable_key)

    with pytest.raises(stripe.CardError) as refused:
        browser.v1.payment_methods.create(params={"type": "card", "card": card})

    assert (refused.value.http_status, refused.value.code, refused.value.param) == (402, code, param)
    assert emulator.stats()["objects"]["payment_methods"] == 0


def test_publishable_key_tokenizes_like_stripe_js_but_can_do_nothing_else(emulator):
    preflight = requests.options(f"{emulator.url}/v1/payment_methods", timeout=5,
                                 headers={"Origin": "https://shop.example.test",
                                          "Access-Control-Request-Method": "POST"})
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    # Stripe.js sends the key as a form field, with no Authorization header.
    tokenized = requests.post(f"{emulator.url}/v1/payment_methods", timeout=5, data={
        "key": emulator.publishable_key, "type": "card", "card[number]": "4242424242424242",
        "card[exp_month]": "4", "card[exp_year]": "2033", "card[cvc]": "314", "payment_user_agent": "stripe.js/x"})
    assert tokenized.status_code == 200 and tokenized.json()["id"].startswith("pm_")
    assert tokenized.headers["Access-Control-Allow-Origin"] == "*"

    browser = emulator.client(emulator.publishable_key)
    with pytest.raises(stripe.PermissionError):
        browser.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    with pytest.raises(stripe.PermissionError):
        browser.v1.payment_methods.retrieve(tokenized.json()["id"])
    assert emulator.stats()["payment_intents"] == 0


def test_card_numbers_sent_with_the_secret_key_are_refused(emulator, client):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_methods.create(params={
            "type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031}})

    assert "Sending credit card numbers directly to the Stripe API is generally unsafe" in refused.value.user_message
    assert emulator.stats()["objects"]["payment_methods"] == 0


def three_d_secure_step(emulator, client, outcome: str):
    intent = authorize(client, currency="eur", method="pm_card_authenticationRequired")
    assert intent.status == "requires_action" and intent.next_action.type == "redirect_to_url"
    page_url = intent.next_action.redirect_to_url.url
    page = requests.get(page_url, timeout=5)
    assert page.status_code == 200 and "Complete" in page.text and "Fail" in page.text
    token = parse_qs(urlsplit(page_url).query)["token"][0]
    answer = requests.post(f"{emulator.url}/3ds/{intent.id}", data={"token": token, "outcome": outcome},
                           allow_redirects=False, timeout=5)
    return intent, page_url, token, answer


def test_three_d_secure_completed_authorizes(emulator, client):
    intent, page_url, token, answer = three_d_secure_step(emulator, client, "complete")

    assert answer.status_code == 303
    location = urlsplit(answer.headers["Location"])
    assert location.netloc == "shop.example.test" and location.path == "/checkout/return"
    assert parse_qs(location.query) == {"order": ["12"], "payment_intent": [intent.id],
                                        "payment_intent_client_secret": [intent.client_secret],
                                        "redirect_status": ["succeeded"]}
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"
    replayed = requests.post(f"{emulator.url}/3ds/{intent.id}", data={"token": token, "outcome": "fail"}, timeout=5)
    assert replayed.status_code == 404  # the page is used up
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_capture"


def test_three_d_secure_failed_asks_for_another_method(client, emulator):
    intent, _, _, answer = three_d_secure_step(emulator, client, "fail")

    assert parse_qs(urlsplit(answer.headers["Location"]).query)["redirect_status"] == ["failed"]
    failed = client.v1.payment_intents.retrieve(intent.id)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error.code == "payment_intent_authentication_failure"
    assert emulator.stats()["charges"] == 0


def test_three_d_secure_page_refuses_a_wrong_token(emulator, client):
    intent = authorize(client, method="pm_card_threeDSecure2Required")

    answer = requests.post(f"{emulator.url}/3ds/{intent.id}", data={"token": "guess", "outcome": "complete"},
                           timeout=5)

    assert answer.status_code == 404
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_action"


def test_off_session_payment_needing_authentication_is_declined(client):
    with pytest.raises(stripe.CardError) as declined:
        authorize(client, method="pm_card_authenticationRequired", off_session=True)

    assert (declined.value.code, declined.value.error.decline_code) == ("authentication_required",
                                                                        "authentication_required")


def test_refunds_partial_then_full_then_over_refund_refused(emulator, client):
    intent = client.v1.payment_intents.capture(authorize(client, amount=1000).id)

    first = client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 300, "reason": "duplicate"})
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 701})
    rest = client.v1.refunds.create(params={"charge": intent.latest_charge})

    assert (first.status, first.amount, first.reason) == ("succeeded", 300, "duplicate")
    assert (too_much.value.code, too_much.value.user_message) == (
        "amount_too_large", "Refund amount ($7.01) is greater than unrefunded amount on charge ($7.00)")
    assert rest.amount == 700
    charge = client.v1.charges.retrieve(intent.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (1000, True)
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.refunds.create(params={"payment_intent": intent.id, "amount": 1})
    assert again.value.code == "charge_already_refunded"
    listed = client.v1.refunds.list(params={"payment_intent": intent.id})
    assert [refund.id for refund in listed.data] == [rest.id, first.id]
    assert client.v1.refunds.retrieve(first.id).amount == 300
    assert emulator.stats()["refunds"] == 2


def test_refund_of_an_uncaptured_or_failed_payment_is_refused(emulator, client):
    held = authorize(client)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": held.id})
    unpaid = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": unpaid.id})
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.refunds.create(params={"payment_intent": "pi_nope"})
    assert missing.value.code == "resource_missing"
    assert emulator.stats()["refunds"] == 0


def test_update_before_payment_and_refused_after(client):
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "metadata": {"a": "1"}})

    updated = client.v1.payment_intents.update(intent.id, params={"amount": 1200, "metadata": {"b": "2"},
                                                                  "description": "Order 12"})

    assert (updated.amount, updated.metadata.to_dict(), updated.description) == (1200, {"a": "1", "b": "2"}, "Order 12")
    captured = client.v1.payment_intents.capture(client.v1.payment_intents.confirm(
        intent.id, params={"payment_method": "pm_card_visa", "return_url": RETURN_URL, "capture_method": "manual"}).id)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.update(intent.id, params={"amount": 5000})
    assert refused.value.code == "payment_intent_unexpected_state"
    assert client.v1.payment_intents.retrieve(captured.id).amount == 1200
    assert client.v1.payment_intents.update(intent.id, params={"metadata": {"a": ""}}).metadata.to_dict() == {"b": "2"}


def test_list_pages_and_search_by_metadata_and_status(client):
    made = [client.v1.payment_intents.create(params={"amount": 1000 + n, "currency": "usd",
                                                     "metadata": {"order": str(n % 2)}}) for n in range(5)]
    client.v1.payment_intents.cancel(made[0].id)

    first = client.v1.payment_intents.list(params={"limit": 2})
    second = client.v1.payment_intents.list(params={"limit": 2, "starting_after": first.data[-1].id})
    found = client.v1.payment_intents.search(params={"query": "metadata['order']:'0' AND status:'canceled'"})
    evens = client.v1.payment_intents.search(params={"query": "metadata['order']:'0'", "limit": 2})
    more = client.v1.payment_intents.search(params={"query": "metadata['order']:'0'", "page": evens.next_page})

    assert [i.id for i in first.data + second.data] == [made[4].id, made[3].id, made[2].id, made[1].id]
    assert first.has_more and second.has_more
    assert [i.id for i in found.data] == [made[0].id]
    assert [i.id for i in evens.data + more.data] == [made[4].id, made[2].id, made[0].id] and not more.has_more
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.search(params={"query": "metadata['order']:'0' AND status:'x' OR amount>1"})


def test_expand_latest_charge(client):
    intent = authorize(client)

    shown = client.v1.payment_intents.retrieve(intent.id, params={"expand": ["latest_charge", "payment_method"]})

    assert shown.latest_charge.object == "charge" and shown.payment_method.object == "payment_method"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.retrieve(intent.id, params={"expand": ["customer"]})
