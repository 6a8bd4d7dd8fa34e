"""Stripe's test cards and test PaymentMethods, and what each does when charged.

A card's kind ("success", "three_ds", or a decline name) is kept beside the
PaymentMethod in the state, never in the object Stripe would show.
"""
from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass

from app.payments.emulator.errors import StripeError, invalid
from app.payments.emulator.state import State, new_id, now


@dataclass(frozen=True)
class Decline:
    code: str
    decline_code: str
    message: str


DECLINES = {
    "generic_decline": Decline("card_declined", "generic_decline", "Your card was declined."),
    "insufficient_funds": Decline("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "expired_card": Decline("expired_card", "expired_card", "Your card has expired."),
    "incorrect_cvc": Decline("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect."),
    "processing_error": Decline("processing_error", "processing_error",
                                "An error occurred while processing your card. Try again in a little bit."),
}
NUMBER_KINDS = {
    "4242424242424242": "success", "5555555555554444": "success", "4000056655665556": "success",
    "378282246310005": "success", "4000000000000002": "generic_decline", "4000000000009995": "insufficient_funds",
    "4000000000000069": "expired_card", "4000000000000127": "incorrect_cvc", "4000000000000119": "processing_error",
    "4000002500003155": "three_ds", "4000002760003184": "three_ds", "4000000000003220": "three_ds",
}
TEST_PAYMENT_METHODS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_amex": "378282246310005",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_threeDSecure2Required": "4000000000003220",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
}
RAW_CARD_REFUSED = (
    "Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest you use test tokens "
    "that map to the test card you are using, see https://stripe.com/docs/testing. To enable testing raw card data "
    "APIs, see https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis.")


def card_error(message: str, code: str, param: str) -> StripeError:
    return StripeError(402, "card_error", message, code=code, param=param)


def luhn_valid(number: str) -> bool:
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(number[:4]) <= 2720:
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    if number.startswith("6011") or number.startswith("65"):
        return "discover"
    return "unknown"


def check_card(card: dict) -> tuple[str, int, int, str | None]:
    """The card's number, expiry and CVC, or the card_error Stripe answers for each."""
    for name in ("number", "exp_month", "exp_year"):
        if name not in card:
            raise invalid(f"Missing required param: card[{name}].", param=f"card[{name}]", code="parameter_missing")
    number = card["number"].replace(" ", "")
    if not (number.isascii() and number.isdigit() and 12 <= len(number) <= 19):
        raise card_error("Your card number is invalid.", "invalid_number", "card[number]")
    if not luhn_valid(number):
        raise card_error("Your card number is incorrect.", "incorrect_number", "card[number]")
    month, year = card["exp_month"], card["exp_year"]
    year = year + 2000 if year < 100 else year
    today = datetime.date.today()
    if not 1 <= month <= 12:
        raise card_error("Your card's expiration month is invalid.", "invalid_expiry_month", "card[exp_month]")
    if not today.year <= year <= today.year + 50:
        raise card_error("Your card's expiration year is invalid.", "invalid_expiry_year", "card[exp_year]")
    if (year, month) < (today.year, today.month):
        raise card_error("Your card's expiration month is invalid.", "invalid_expiry_month", "card[exp_month]")
    cvc = card.get("cvc")
    if cvc is not None and not (cvc.isascii() and cvc.isdigit() and len(cvc) == (4 if brand(number) == "amex" else 3)):
        raise card_error("Your card's security code is invalid.", "invalid_cvc", "card[cvc]")
    return number, month, year, cvc


def add_payment_method(state: State, number: str, month: int, year: int, cvc: str | None,
                       billing_details: dict | None = None, metadata: dict | None = None) -> dict:
    """A PaymentMethod for a checked card (state lock held); only brand and last four digits are kept."""
    card_brand = brand(number)
    method = {
        "id": new_id("pm"), "object": "payment_method", "allow_redirects": "unspecified",
        "billing_details": _billing(billing_details or {}),
        "card": {
            "brand": card_brand, "checks": {"address_line1_check": None, "address_postal_code_check": None,
                                            "cvc_check": "unchecked" if cvc else None},
            "country": "US", "display_brand": card_brand, "exp_month": month, "exp_year": year,
            "fingerprint": hashlib.sha256(number.encode()).hexdigest()[:16], "funding": "credit",
            "generated_from": None, "last4": number[-4:],
            "networks": {"available": [card_brand], "preferred": None}, "regulated_status": "unregulated",
            "three_d_secure_usage": {"supported": True}, "wallet": None,
        },
        "created": now(), "customer": None, "livemode": False, "metadata": metadata or {}, "type": "card",
    }
    state.card_kinds[method["id"]] = NUMBER_KINDS.get(number, "success")
    return state.add("payment_methods", method)


def _billing(given: dict) -> dict:
    address = given.get("address") or {}
    return {
        "address": {key: address.get(key) for key in ("city", "country", "line1", "line2", "postal_code", "state")},
        "email": given.get("email"), "name": given.get("name"), "phone": given.get("phone"), "tax_id": None,
    }


def resolve(state: State, method_id: str, param: str = "payment_method") -> dict:
    """A stored PaymentMethod, or a fresh one for a test id such as pm_card_visa (as Stripe clones them)."""
    if method_id in TEST_PAYMENT_METHODS:
        next_year = datetime.date.today().year + 1
        return add_payment_method(state, TEST_PAYMENT_METHODS[method_id], 12, next_year, "123")
    method = state.table("payment_methods").get(method_id)
    if method is None:
        raise StripeError(400, "invalid_request_error", f"No such PaymentMethod: '{method_id}'",
                          code="resource_missing", param=param)
    return method


def kind(state: State, method_id: str) -> str:
    return state.card_kinds.get(method_id, "success")
