"""PaymentIntents: create, update, confirm, capture, cancel, retrieve, list, search.

Statuses move as Stripe moves them: requires_payment_method ->
requires_confirmation -> (requires_action ->) requires_capture | succeeded,
back to requires_payment_method on a decline, canceled from any but
succeeded. Every transition emits the events Stripe emits for it.
"""
from __future__ import annotations

import copy
import secrets

from app.payments.emulator import cards, params as p
from app.payments.emulator.charges import add_charge, capture_charge, check_decline_error, release_charge
from app.payments.emulator.context import Call
from app.payments.emulator.currencies import check_amount, currency
from app.payments.emulator.errors import invalid, missing_object, missing_parameter, state_error
from app.payments.emulator.listing import LIST_SPEC, created_filter, page, render, search_page
from app.payments.emulator.state import new_id, now

UNEXPECTED = "payment_intent_unexpected_state"
CONFIRMABLE = ("requires_payment_method", "requires_confirmation", "requires_action")
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action",
              "processing")
RETURN_URL_NEEDED = (
    "This PaymentIntent is configured to accept payment methods enabled in your Dashboard, because "
    "automatic_payment_methods is enabled. Some of these payment methods might redirect your customer off of your "
    "page and you must provide a return_url. If you don't want to accept redirect-based payment methods, set "
    "automatic_payment_methods[allow_redirects]=never when creating Setup Intents and Payment Intents.")
AUTHENTICATION_FAILED = (
    "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new "
    "PaymentMethod to attempt to fulfill this PaymentIntent again.")
AUTHENTICATION_REQUIRED = cards.Decline("authentication_required", "authentication_required",
                                        "Your card was declined. This transaction requires authentication.")

OPTIONS: p.Spec = {"card": {"request_three_d_secure": p.enum("any", "automatic", "challenge"),
                            "capture_method": p.enum("manual")}}
COMMON: p.Spec = {
    "amount": p.integer(), "currency": currency, "capture_method": p.enum("automatic", "automatic_async", "manual"),
    "description": p.string(1000), "metadata": p.metadata, "payment_method": p.string(200),
    "payment_method_types": p.string_list(100), "receipt_email": p.string(800),
    "setup_future_usage": p.enum("off_session", "on_session"), "statement_descriptor": p.string(22),
    "statement_descriptor_suffix": p.string(22), "payment_method_options": OPTIONS, "transfer_group": p.string(200),
    "expand": p.EXPAND,
}
CREATE_SPEC: p.Spec = {
    **COMMON, "confirm": p.boolean, "confirmation_method": p.enum("automatic", "manual"),
    "automatic_payment_methods": {"enabled": p.boolean, "allow_redirects": p.enum("always", "never")},
    "return_url": p.string(2048), "off_session": p.boolean, "error_on_requires_action": p.boolean,
    "use_stripe_sdk": p.boolean,
}
CONFIRM_SPEC: p.Spec = {
    "payment_method": p.string(200), "return_url": p.string(2048), "receipt_email": p.string(800),
    "off_session": p.boolean, "error_on_requires_action": p.boolean, "use_stripe_sdk": p.boolean,
    "setup_future_usage": p.enum("off_session", "on_session"), "payment_method_options": OPTIONS,
    "capture_method": p.enum("automatic", "automatic_async", "manual"), "expand": p.EXPAND,
}
CAPTURE_SPEC: p.Spec = {"amount_to_capture": p.integer(), "metadata": p.metadata, "final_capture": p.boolean,
                        "statement_descriptor": p.string(22), "statement_descriptor_suffix": p.string(22),
                        "expand": p.EXPAND}
CANCEL_SPEC: p.Spec = {"cancellation_reason": p.enum("duplicate", "fraudulent", "requested_by_customer", "abandoned"),
                       "expand": p.EXPAND}
RETRIEVE_SPEC: p.Spec = {"client_secret": p.string(500), "expand": p.EXPAND}
LIST_INTENTS_SPEC: p.Spec = {**LIST_SPEC, "created": created_filter, "customer": p.string(200)}
SEARCH_SPEC: p.Spec = {"query": p.string(10_000), "limit": p.LIMIT, "page": p.string(200), "expand": p.EXPAND}
# What may change only before a payment is attempted successfully.
PAYMENT_FIELDS = ("amount", "currency", "capture_method", "payment_method", "payment_method_types")


def _shown(call: Call, intent: dict, values: dict) -> dict:
    return render(call.state, "payment_intent", intent, values.get("expand", []))


def _get(call: Call, intent_id: str) -> dict:
    intent = call.state.table("payment_intents").get(intent_id)
    if intent is None:
        raise missing_object("payment_intent", intent_id, param="intent")
    return intent


# -- create ------------------------------------------------------------------------------------------------------------

def create(call: Call, params: dict) -> tuple[int, dict]:
    values = p.read(params, CREATE_SPEC)
    for required in ("amount", "currency"):
        if required not in values:
            raise missing_parameter(required)
    check_amount(values["amount"], values["currency"])
    _check_payment_method_choice(values)
    if "return_url" in values and not values.get("confirm"):
        raise invalid("You can only provide a return_url when confirm is true.", param="return_url")
    automatic = values.get("automatic_payment_methods", {})
    redirecting = automatic.get("enabled", True) and automatic.get("allow_redirects", "always") == "always"
    if values.get("confirm") and "payment_method_types" not in values and redirecting and "return_url" not in values:
        raise invalid(RETURN_URL_NEEDED, param="return_url")  # before anything is created, as Stripe checks it
    intent = _new_intent(call, values)
    call.emit("payment_intent.created", intent)
    if values.get("confirm"):
        _confirm(call, intent, {**values, "payment_method": None})  # its method is already on the intent
    return 200, _shown(call, intent, values)


def _check_payment_method_choice(values: dict) -> None:
    automatic = values.get("automatic_payment_methods", {})
    if automatic.get("enabled") and "payment_method_types" in values:
        raise invalid("You may only specify one of these parameters: automatic_payment_methods, "
                      "payment_method_types.", param="automatic_payment_methods")
    types = values.get("payment_method_types")
    if types is not None and any(kind != "card" for kind in types):
        unsupported = next(kind for kind in types if kind != "card")
        raise invalid(f"The payment method type \"{unsupported}\" is invalid. Please ensure the provided type is "
                      "activated in your dashboard (https://dashboard.stripe.com/account/payments/settings) and your "
                      "account is enabled for any preview features that you are trying to use.",
                      param="payment_method_types")


def _new_intent(call: Call, values: dict) -> dict:
    intent_id = new_id("pi")
    automatic = values.get("automatic_payment_methods")
    if automatic is None and "payment_method_types" not in values:
        automatic = {"enabled": True}  # the default since API version 2023-08-16
    if automatic is not None:
        automatic = {"allow_redirects": automatic.get("allow_redirects", "always"),
                     "enabled": automatic.get("enabled", False)}
    method = cards.resolve(call.state, values["payment_method"]) if "payment_method" in values else None
    intent = {
        "id": intent_id, "object": "payment_intent", "amount": values["amount"], "amount_capturable": 0,
        "amount_details": {"tip": {}}, "amount_received": 0, "application": None, "application_fee_amount": None,
        "automatic_payment_methods": automatic, "canceled_at": None, "cancellation_reason": None,
        "capture_method": values.get("capture_method", "automatic_async"),
        "client_secret": f"{intent_id}_secret_{secrets.token_urlsafe(18).replace('-', 'x').replace('_', 'y')}",
        "confirmation_method": values.get("confirmation_method", "automatic"), "created": now(),
        "currency": values["currency"], "customer": None, "description": values.get("description"),
        "excluded_payment_method_types": None, "last_payment_error": None, "latest_charge": None, "livemode": False,
        "metadata": values.get("metadata", {}), "next_action": None, "on_behalf_of": None,
        "payment_method": method["id"] if method else None, "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"installments": None, "mandate_options": None, "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": values.get("payment_method_types") or ["card"], "processing": None,
        "receipt_email": values.get("receipt_email"), "review": None,
        "setup_future_usage": values.get("setup_future_usage"), "shipping": None, "source": None,
        "statement_descriptor": values.get("statement_descriptor"),
        "statement_descriptor_suffix": values.get("statement_descriptor_suffix"),
        "status": "requires_confirmation" if method else "requires_payment_method", "transfer_data": None,
        "transfer_group": values.get("transfer_group"),
    }
    call.state.add("payment_intents", intent)
    call.state.stats["payment_intents"] += 1
    return intent


# -- confirm -----------------------------------------------------------------------------------------------------------

def confirm(call: Call, params: dict, intent_id: str) -> tuple[int, dict]:
    values = p.read(params, CONFIRM_SPEC)
    intent = _get(call, intent_id)
    if "receipt_email" in values:
        intent["receipt_email"] = values["receipt_email"]
    if "capture_method" in values and intent["status"] in CONFIRMABLE:
        intent["capture_method"] = values["capture_method"]
    _confirm(call, intent, values)
    return 200, _shown(call, intent, values)


def _confirm(call: Call, intent: dict, values: dict) -> None:
    """Attempt the payment: authorize, ask for 3-D Secure, or decline with Stripe's 402."""
    _check_confirmable(intent)
    method_id = values.get("payment_method") or intent["payment_method"]
    if not method_id:
        raise state_error("You cannot confirm this PaymentIntent because it's missing a payment method. You can "
                          "either update the PaymentIntent with a payment method and then confirm it again, or "
                          "confirm it again directly with a payment method.", code=UNEXPECTED,
                          payment_intent=intent)
    method = cards.resolve(call.state, method_id) if method_id != intent["payment_method"] else \
        call.state.table("payment_methods")[method_id]
    return_url = values.get("return_url")
    automatic = intent["automatic_payment_methods"]
    if automatic and automatic["enabled"] and automatic["allow_redirects"] == "always" and not return_url:
        raise invalid(RETURN_URL_NEEDED, param="return_url")
    intent.update(payment_method=method["id"], last_payment_error=None, next_action=None)
    call.state.stats["confirmations"] += 1
    call.charged = True
    kind = cards.kind(call.state, method["id"])
    if kind == "three_ds" and (values.get("off_session") or values.get("error_on_requires_action")):
        _decline(call, intent, method, AUTHENTICATION_REQUIRED)
    elif kind == "three_ds":
        _require_action(call, intent, return_url)
    elif kind in cards.DECLINES:
        _decline(call, intent, method, cards.DECLINES[kind])
    else:
        authorize(call, intent, method)


def _check_confirmable(intent: dict) -> None:
    if intent["status"] in CONFIRMABLE:
        return
    if intent["status"] in ("succeeded", "requires_capture"):
        message = ("You cannot confirm this PaymentIntent because it has already succeeded after being previously "
                   "confirmed.")
    else:
        message = (f"You cannot confirm this PaymentIntent because it has a status of {intent['status']}. Only a "
                   "PaymentIntent with one of the following statuses may be confirmed: requires_confirmation, "
                   "requires_payment_method, requires_action.")
    raise state_error(message, code=UNEXPECTED, payment_intent=intent)


def _require_action(call: Call, intent: dict, return_url: str | None) -> None:
    token = secrets.token_urlsafe(24)
    call.state.three_ds[intent["id"]] = {"token": token, "return_url": return_url}
    intent.update(status="requires_action", next_action={
        "type": "redirect_to_url",
        "redirect_to_url": {"url": f"{call.host_url}3ds/{intent['id']}?token={token}", "return_url": return_url},
    })
    call.emit("payment_intent.requires_action", intent)


def authorize(call: Call, intent: dict, method: dict) -> None:
    """The card approved the amount: held (manual capture) or taken at once."""
    charge = add_charge(call, intent, method)
    intent.update(latest_charge=charge["id"], next_action=None, last_payment_error=None)
    call.state.three_ds.pop(intent["id"], None)
    if intent["capture_method"] == "manual":
        intent.update(status="requires_capture", amount_capturable=intent["amount"])
        call.emit("charge.succeeded", charge)
        call.emit("payment_intent.amount_capturable_updated", intent)
        return
    capture_charge(call, charge["id"], intent["amount"])
    intent.update(status="succeeded", amount_received=intent["amount"])
    call.emit("charge.succeeded", charge)
    call.emit("payment_intent.succeeded", intent)


def _decline(call: Call, intent: dict, method: dict, decline: cards.Decline) -> None:
    charge = add_charge(call, intent, method, decline)
    shown_method = copy.deepcopy(method)
    intent.update(status="requires_payment_method", payment_method=None, latest_charge=charge["id"],
                  next_action=None, last_payment_error={
                      "charge": charge["id"], "code": decline.code, "decline_code": decline.decline_code,
                      "doc_url": f"https://stripe.com/docs/error-codes/{decline.code.replace('_', '-')}",
                      "message": decline.message, "payment_method": shown_method, "type": "card_error"})
    call.emit("charge.failed", charge)
    call.emit("payment_intent.payment_failed", intent)
    raise check_decline_error(decline, charge, intent, shown_method)


def fail_authentication(call: Call, intent: dict) -> None:
    """The shopper failed 3-D Secure on the emulator's page."""
    method = call.state.table("payment_methods")[intent["payment_method"]]
    call.state.three_ds.pop(intent["id"], None)
    intent.update(status="requires_payment_method", payment_method=None, next_action=None, last_payment_error={
        "code": "payment_intent_authentication_failure",
        "doc_url": "https://stripe.com/docs/error-codes/payment-intent-authentication-failure",
        "message": AUTHENTICATION_FAILED, "payment_method": copy.deepcopy(method), "type": "invalid_request_error"})
    call.emit("payment_intent.payment_failed", intent)


# -- capture, cancel, update -------------------------------------------------------------------------------------------

def capture(call: Call, params: dict, intent_id: str) -> tuple[int, dict]:
    values = p.read(params, CAPTURE_SPEC)
    intent = _get(call, intent_id)
    if intent["status"] != "requires_capture":
        message = ("This PaymentIntent could not be captured because it has already been captured."
                   if intent["status"] == "succeeded" else
                   f"This PaymentIntent could not be captured because it has a status of {intent['status']}. Only a "
                   "PaymentIntent with one of the following statuses may be captured: requires_capture.")
        raise state_error(message, code=UNEXPECTED, payment_intent=intent)
    amount = values.get("amount_to_capture", intent["amount_capturable"])
    if amount < 1:
        raise invalid("Invalid positive integer", param="amount_to_capture", code="parameter_invalid_integer")
    if amount > intent["amount_capturable"]:
        raise state_error("The payment could not be captured because the requested capture amount is greater than "
                          "the authorized amount. If you are trying to collect a tip or over-capture, your account "
                          "might not be configured for those features. Contact us via "
                          "https://support.stripe.com/contact/", param="amount_to_capture", code="amount_too_large")
    if "metadata" in values:
        intent["metadata"] = p.merge_metadata(intent["metadata"], values["metadata"], params.get("metadata"))
    charge = capture_charge(call, intent["latest_charge"], amount)
    intent.update(status="succeeded", amount_received=amount, amount_capturable=0)
    call.state.stats["captures"] += 1
    call.emit("charge.captured", charge)
    call.emit("payment_intent.succeeded", intent)
    return 200, _shown(call, intent, values)


def cancel(call: Call, params: dict, intent_id: str) -> tuple[int, dict]:
    values = p.read(params, CANCEL_SPEC)
    intent = _get(call, intent_id)
    if intent["status"] not in CANCELABLE:
        raise state_error(f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}. "
                          "Only a PaymentIntent with one of the following statuses may be canceled: "
                          f"{', '.join(CANCELABLE)}.", code=UNEXPECTED, payment_intent=intent)
    call.state.three_ds.pop(intent["id"], None)
    if intent["status"] == "requires_capture":
        release_charge(call, intent["latest_charge"])
    intent.update(status="canceled", canceled_at=now(), cancellation_reason=values.get("cancellation_reason"),
                  amount_capturable=0, next_action=None)
    call.state.stats["cancellations"] += 1
    call.emit("payment_intent.canceled", intent)
    return 200, _shown(call, intent, values)


def update(call: Call, params: dict, intent_id: str) -> tuple[int, dict]:
    values = p.read(params, COMMON)
    intent = _get(call, intent_id)
    for field in PAYMENT_FIELDS:
        if field in values and intent["status"] not in CONFIRMABLE:
            raise state_error(f"This PaymentIntent's {field} could not be updated because it has a status of "
                              f"{intent['status']}. You may only update the {field} of a PaymentIntent with one of "
                              "the following statuses: requires_payment_method, requires_confirmation, "
                              "requires_action.", param=field, code=UNEXPECTED)
    if "amount" in values or "currency" in values:
        check_amount(values.get("amount", intent["amount"]), values.get("currency", intent["currency"]))
    if "payment_method_types" in values:
        _check_payment_method_choice({"payment_method_types": values["payment_method_types"]})
    _apply_update(call, intent, values, params)
    return 200, _shown(call, intent, values)


def _apply_update(call: Call, intent: dict, values: dict, params: dict) -> None:
    if "payment_method" in values:
        method = cards.resolve(call.state, values["payment_method"])
        intent.update(payment_method=method["id"], status="requires_confirmation", next_action=None)
        call.state.three_ds.pop(intent["id"], None)
    if "metadata" in values:
        intent["metadata"] = p.merge_metadata(intent["metadata"], values["metadata"], params.get("metadata"))
    for field in ("amount", "currency", "capture_method", "description", "receipt_email", "setup_future_usage",
                  "statement_descriptor", "statement_descriptor_suffix", "transfer_group"):
        if field in values:
            intent[field] = values[field] if values[field] != "" else None
    if "payment_method_types" in values:
        intent["payment_method_types"] = values["payment_method_types"] or ["card"]
        intent["automatic_payment_methods"] = None
    call.state.changed()


# -- reading -----------------------------------------------------------------------------------------------------------

def retrieve(call: Call, params: dict, intent_id: str) -> tuple[int, dict]:
    values = p.read(params, RETRIEVE_SPEC)
    return 200, _shown(call, _get(call, intent_id), values)


def list_intents(call: Call, params: dict) -> tuple[int, dict]:
    values = p.read(params, LIST_INTENTS_SPEC)
    items = [intent for intent in call.state.table("payment_intents").values()
             if ("created" not in values or values["created"](intent["created"]))
             and ("customer" not in values or intent["customer"] == values["customer"])]
    return 200, page(call.state, "payment_intents", items, values, "/v1/payment_intents")


def search(call: Call, params: dict) -> tuple[int, dict]:
    values = p.read(params, SEARCH_SPEC)
    if "query" not in values:
        raise missing_parameter("query")
    items = list(call.state.table("payment_intents").values())
    return 200, search_page(call.state, "payment_intents", items, values, "/v1/payment_intents/search")
