"""The emulator's protocol: API keys, parameter refusals in Stripe's words,
idempotency keys, fault injection, hostile input, and its state file."""
from __future__ import annotations

import threading
import uuid

import pytest
import requests
import stripe

from tests.conftest import wait_until
from tests.payments.conftest import start_emulator, stop_emulator

CREATE = "/v1/payment_intents"


def test_every_answer_has_a_request_id(emulator):
    answers = [emulator.post(CREATE, {"amount": "1000", "currency": "usd"}), emulator.get(CREATE),
               emulator.post(CREATE, {"amount": "1"}), requests.get(emulator.url + CREATE, timeout=5),
               emulator.get("/v1/nothing_here")]

    assert [answer.status_code for answer in answers] == [200, 200, 400, 401, 404]
    assert all(answer.headers["Request-Id"].startswith("req_") for answer in answers)
    assert len({answer.headers["Request-Id"] for answer in answers}) == 5


@pytest.mark.parametrize("key, message_start", [
    (None, "You did not provide an API key."),
    ("sk_live_abcdefghijkl", "Invalid API Key provided: sk_live_"),
    ("nonsense", "Invalid API Key provided"),
])
def test_missing_or_invalid_keys_get_401(emulator, key, message_start):
    headers = {"Authorization": f"Bearer {key}"} if key else {}

    answer = requests.post(emulator.url + CREATE, data={"amount": "1000", "currency": "usd"}, headers=headers,
                           timeout=5)

    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and error["message"].startswith(message_start)
    assert "abcdefghijkl" not in error["message"]  # keys are masked
    assert emulator.stats()["payment_intents"] == 0


def test_the_sdk_raises_authentication_error(emulator):
    with pytest.raises(stripe.AuthenticationError):
        emulator.client("sk_live_abcdefghijkl").v1.payment_intents.list()


@pytest.mark.parametrize("params, status, code, param, message", [
    ({"amount": 1000, "currency": "usd", "colour": "red"}, 400, "parameter_unknown", "colour",
     "Received unknown parameter: colour"),
    ({"amount": 1000, "currency": "usd", "metadata": {"a": "1"}, "card": {"x": "1"}}, 400, "parameter_unknown",
     "card", "Received unknown parameter: card"),
    ({"amount": 1000, "currency": "usd", "payment_method_options": {"card": {"colour": "x"}}}, 400,
     "parameter_unknown", "payment_method_options[card][colour]",
     "Received unknown parameter: payment_method_options[card][colour]"),
    ({"currency": "usd"}, 400, "parameter_missing", "amount", "Missing required param: amount."),
    ({"amount": 1000}, 400, "parameter_missing", "currency", "Missing required param: currency."),
    ({"amount": "abc", "currency": "usd"}, 400, "parameter_invalid_integer", "amount", "Invalid integer: abc"),
    ({"amount": "99999999999999999999", "currency": "usd"}, 400, "parameter_invalid_integer", "amount",
     "Invalid integer: 99999999999999999999"),
    ({"amount": 49, "currency": "usd"}, 400, "amount_too_small", "amount", "Amount must be at least $0.50 usd"),
    ({"amount": 29, "currency": "gbp"}, 400, "amount_too_small", "amount", "Amount must be at least £0.30 gbp"),
    ({"amount": 49, "currency": "jpy"}, 400, "amount_too_small", "amount", "Amount must be at least ¥50 jpy"),
    ({"amount": -5, "currency": "eur"}, 400, "amount_too_small", "amount", "Amount must be at least €0.50 eur"),
    ({"amount": 100_000_000, "currency": "usd"}, 400, "amount_too_large", "amount",
     "Amount must be no more than $999,999.99"),
    ({"amount": 1000, "currency": "usd", "confirm": "maybe"}, 400, None, "confirm", "Invalid boolean: maybe"),
    ({"amount": 1000, "currency": "usd", "capture_method": "later"}, 400, None, "capture_method",
     "Invalid capture_method: must be one of automatic, automatic_async, or manual"),
])
def test_parameters_refused_in_stripes_words(emulator, client, params, status, code, param, message):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.create(params=params)

    error = refused.value
    assert (error.http_status, error.code, error.param, error.user_message) == (status, code, param, message)
    assert emulator.stats()["payment_intents"] == 0  # a refused write changes nothing


def test_unsupported_currency_refused(emulator, client):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "xyz"})

    assert refused.value.param == "currency"
    assert refused.value.user_message.startswith("Invalid currency: xyz. Stripe currently supports these currencies:")


def test_minimums_are_inclusive(client):
    for currency, minimum in (("usd", 50), ("eur", 50), ("gbp", 30), ("jpy", 50)):
        assert client.v1.payment_intents.create(params={"amount": minimum, "currency": currency}).amount == minimum


def test_confirming_with_automatic_payment_methods_needs_a_return_url(emulator, client):
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa",
                                                 "confirm": True})

    assert refused.value.param == "return_url"
    assert emulator.stats()["payment_intents"] == 0
    never = client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}})
    assert never.status == "succeeded"


# -- idempotency -------------------------------------------------------------------------------------------------------

def test_same_key_same_parameters_replays_the_first_answer(emulator):
    key = str(uuid.uuid4())
    body = {"amount": "1000", "currency": "usd", "capture_method": "manual", "payment_method": "pm_card_visa",
            "confirm": "true", "return_url": "https://shop.example.test/r", "metadata[order]": "12"}

    first = emulator.post(CREATE, body, headers={"Idempotency-Key": key})
    again = emulator.post(CREATE, body, headers={"Idempotency-Key": key})

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert again.headers["Original-Request"] == first.headers["Request-Id"]
    stats = emulator.stats()
    assert (stats["payment_intents"], stats["confirmations"], stats["charges"]) == (1, 1, 1)


def test_a_declined_answer_is_replayed_too(emulator, client):
    options = {"idempotency_key": str(uuid.uuid4())}
    params = {"amount": 1000, "currency": "usd", "payment_method": "pm_card_chargeDeclined", "confirm": True,
              "return_url": "https://shop.example.test/r"}
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as declined:
            client.v1.payment_intents.create(params=params, options=options)
        errors.append(declined.value)

    assert errors[0].error.payment_intent.id == errors[1].error.payment_intent.id
    assert errors[1].headers["Idempotent-Replayed"] == "true"
    assert emulator.stats()["declines"] == 1


def test_same_key_other_parameters_is_an_idempotency_error(emulator, client):
    options = {"idempotency_key": str(uuid.uuid4())}
    client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"}, options=options)

    with pytest.raises(stripe.IdempotencyError) as refused:
        client.v1.payment_intents.create(params={"amount": 2000, "currency": "usd"}, options=options)

    assert refused.value.http_status == 400
    assert refused.value.user_message.startswith(
        "Keys for idempotent requests can only be used with the same parameters they were first used with.")
    with pytest.raises(stripe.IdempotencyError):
        client.v1.refunds.create(params={"payment_intent": "pi_x"}, options=options)  # another endpoint
    assert emulator.stats()["payment_intents"] == 1


def test_keys_are_scoped_per_api_key(emulator):
    key = str(uuid.uuid4())
    body = {"amount": "1000", "currency": "usd"}

    mine = emulator.post(CREATE, body, headers={"Idempotency-Key": key})
    theirs = emulator.post(CREATE, body, key="sk_test_anotherAccountKey01", headers={"Idempotency-Key": key})

    assert mine.json()["id"] != theirs.json()["id"]
    assert "Idempotent-Replayed" not in theirs.headers


def test_a_key_still_in_flight_answers_409(emulator):
    emulator.faults(latency_ms=1500, paths=[CREATE])
    key = str(uuid.uuid4())
    body = {"amount": "1000", "currency": "usd"}
    first: list[requests.Response] = []
    worker = threading.Thread(
        target=lambda: first.append(emulator.post(CREATE, body, headers={"Idempotency-Key": key})))
    worker.start()
    wait_until(lambda: emulator.stats()["idempotent_requests_in_flight"] == 1, "the first request to hold its key")

    concurrent = emulator.post(CREATE, body, headers={"Idempotency-Key": key})

    assert concurrent.status_code == 409
    assert concurrent.json()["error"]["code"] == "idempotency_key_in_use"
    worker.join()
    emulator.faults()
    after = emulator.post(CREATE, body, headers={"Idempotency-Key": key})
    assert after.headers["Idempotent-Replayed"] == "true" and after.json()["id"] == first[0].json()["id"]
    assert emulator.stats()["payment_intents"] == 1


def test_a_request_refused_for_its_parameters_does_not_use_up_its_key(emulator):
    key = str(uuid.uuid4())

    refused = emulator.post(CREATE, {"amount": "abc", "currency": "usd"}, headers={"Idempotency-Key": key})
    corrected = emulator.post(CREATE, {"amount": "1000", "currency": "usd"}, headers={"Idempotency-Key": key})

    assert (refused.status_code, corrected.status_code) == (400, 200)
    assert "Idempotent-Replayed" not in corrected.headers


# -- faults ------------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["drop", "hang"])
def test_timeout_after_charge_the_charge_happened_once(emulator, mode):
    emulator.faults(timeout_after_charge=1, timeout_mode=mode, hang_seconds=1.5)
    impatient = emulator.client(timeout=0.5)
    key = str(uuid.uuid4())
    params = {"amount": 1000, "currency": "usd", "capture_method": "manual", "payment_method": "pm_card_visa",
              "confirm": True, "return_url": "https://shop.example.test/r", "metadata": {"order": "77"}}

    with pytest.raises(stripe.APIConnectionError):
        impatient.v1.payment_intents.create(params=params, options={"idempotency_key": key})

    wait_until(lambda: emulator.stats()["charges"] == 1, "the charge to be recorded")
    found = emulator.client().v1.payment_intents.search(params={"query": "metadata['order']:'77'"})
    assert [intent.status for intent in found.data] == ["requires_capture"]
    # The checkout retries with the same key and learns the outcome without a second charge.
    retried = emulator.client().v1.payment_intents.create(params=params, options={"idempotency_key": key})
    assert retried.id == found.data[0].id
    stats = emulator.stats()
    assert (stats["payment_intents"], stats["confirmations"], stats["charges"]) == (1, 1, 1)


def test_the_sdk_retrying_on_its_own_gets_the_first_outcome(emulator):
    emulator.faults(timeout_after_charge=1)

    intent = emulator.client(retries=2).v1.payment_intents.create(params={
        "amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True,
        "return_url": "https://shop.example.test/r"})

    assert intent.status == "succeeded"
    assert emulator.stats()["charges"] == 1


def test_fail_next_and_error_rate_answer_500_before_doing_anything(emulator):
    emulator.faults(fail_next=2, paths=[CREATE])
    client = emulator.client()

    for _ in range(2):
        with pytest.raises(stripe.APIError) as failed:
            client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
        assert failed.value.http_status == 500
    assert client.v1.payment_methods.retrieve("pm_card_visa").id.startswith("pm_")  # other paths unaffected
    assert client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"}).status
    emulator.faults(error_rate=1.0)
    with pytest.raises(stripe.APIError):
        client.v1.payment_intents.list()
    assert emulator.stats()["payment_intents"] == 1


def test_fault_settings_are_checked(emulator):
    for bad in ({"latency_ms": -1}, {"error_rate": 2}, {"timeout_mode": "explode"}, {"surprise": 1}, [1]):
        answer = requests.post(f"{emulator.url}/_emulator/faults", json=bad, timeout=5)
        assert answer.status_code == 400
    assert emulator.faults()["latency_ms"] == 0


# -- hostile input -----------------------------------------------------------------------------------------------------

HOSTILE = ["\x00", "²", "١٢٣", "１２", "-1", "99999999999999999999", "3000000000", "", "x" * 20_000,
           "<script>alert(1)</script>", "1e309", "NaN", "true", "[]", "../../etc/passwd"]
PATHS = ["/v1/payment_intents", "/v1/payment_intents/{pi}", "/v1/payment_intents/{pi}/confirm",
         "/v1/payment_intents/{pi}/capture", "/v1/payment_intents/{pi}/cancel", "/v1/refunds",
         "/v1/payment_methods", "/v1/webhook_endpoints"]
FIELDS = ["amount", "currency", "metadata[x]", "metadata", "expand[]", "expand[0][a]", "payment_method",
          "amount_to_capture", "cancellation_reason", "limit", "starting_after", "created[gt]", "query",
          "card[number]", "url", "enabled_events[]", "payment_intent", "charge", "confirm", "a[b][c][d][e]"]


def test_hostile_input_never_gets_a_5xx(emulator, client):
    intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emulator.secret_key}"
    answers = []
    for path in PATHS:
        url = emulator.url + path.format(pi=intent.id)
        for index, field in enumerate(FIELDS):  # each field on its own, the hostile values in turn
            answers.append(session.post(url, data={field: HOSTILE[index % len(HOSTILE)]}, timeout=10).status_code)
            answers.append(session.get(url, params={field: HOSTILE[0]}, timeout=10).status_code)
        for value in HOSTILE:  # every field at once
            answers.append(session.post(url, data={field: value for field in FIELDS}, timeout=10).status_code)
        answers.append(session.post(url, data=[("metadata[k]", str(n)) for n in range(3000)], timeout=10).status_code)
        answers.append(session.post(url, data={"metadata": "x", "metadata[a]": "1"}, timeout=10).status_code)
        answers.append(session.post(url, data=b"\xff\xfe" * 100, headers={
            "Content-Type": "application/x-www-form-urlencoded"}, timeout=10).status_code)
    answers.append(session.get(emulator.url + "/3ds/" + "\x00" * 3, timeout=10).status_code)
    answers.append(session.post(emulator.url + "/3ds/x", data={"outcome": "complete", "token": "\x00"},
                                timeout=10).status_code)

    assert all(status < 500 for status in answers), sorted(set(answers))
    assert client.v1.payment_intents.retrieve(intent.id).amount == 1000
    assert emulator.stats()["payment_intents"] == 1


# -- state file --------------------------------------------------------------------------------------------------------

def test_state_file_keeps_payment_intents_across_a_restart(tmp_path):
    state_file = tmp_path / "emulator.json"
    process, url = start_emulator("--state-file", str(state_file), log_path=tmp_path / "first.log")
    try:
        client = stripe.StripeClient("sk_test_stateFileTest01", base_addresses={"api": url}, max_network_retries=0)
        intent = client.v1.payment_intents.create(params={
            "amount": 1000, "currency": "usd", "capture_method": "manual", "payment_method": "pm_card_visa",
            "confirm": True, "return_url": "https://shop.example.test/r"})
    finally:
        stop_emulator(process)
    process, url = start_emulator("--state-file", str(state_file), log_path=tmp_path / "second.log")
    try:
        client = stripe.StripeClient("sk_test_stateFileTest01", base_addresses={"api": url}, max_network_retries=0)
        kept = client.v1.payment_intents.retrieve(intent.id)
        assert (kept.status, kept.latest_charge) == ("requires_capture", intent.latest_charge)
        assert client.v1.payment_intents.capture(intent.id).status == "succeeded"
    finally:
        stop_emulator(process)


# -- concurrency -------------------------------------------------------------------------------------------------------

def test_racing_captures_and_refunds_take_the_money_once(emulator, client):
    intent = client.v1.payment_intents.create(params={
        "amount": 1000, "currency": "usd", "capture_method": "manual", "payment_method": "pm_card_visa",
        "confirm": True, "return_url": "https://shop.example.test/r"})
    barrier = threading.Barrier(8)
    outcomes: list[int] = []

    def race(path: str, data: dict) -> None:
        barrier.wait()
        outcomes.append(emulator.post(path, data).status_code)

    def run_all(path: str, data: dict) -> list[int]:
        outcomes.clear()
        workers = [threading.Thread(target=race, args=(path, data)) for _ in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return sorted(outcomes)

    assert run_all(f"/v1/payment_intents/{intent.id}/capture", {}) == [200] + [400] * 7
    assert run_all("/v1/refunds", {"payment_intent": intent.id, "amount": "300"}) == [200] * 3 + [400] * 5
    stats = emulator.stats()
    assert (stats["captures"], stats["refunds"]) == (1, 3)
    assert client.v1.charges.retrieve(intent.latest_charge).amount_refunded == 900
