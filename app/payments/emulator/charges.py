"""Charges (made by confirming a PaymentIntent) and Refunds."""
from __future__ import annotations

import copy

from app.payments.emulator import params as p
from app.payments.emulator.context import Call
from app.payments.emulator.currencies import shown
from app.payments.emulator.errors import StripeError, invalid, missing_object, state_error
from app.payments.emulator.listing import LIST_SPEC, created_filter, page, render
from app.payments.emulator.state import new_id, now

APPROVED = {"network_status": "approved_by_network", "reason": None, "risk_level": "normal", "risk_score": 32,
            "seller_message": "Payment complete.", "type": "authorized"}


def add_charge(call: Call, intent: dict, method: dict, decline=None) -> dict:
    """A charge for `intent` on `method` (state lock held): authorized, or failed with `decline`."""
    card = method["card"]
    charge = {
        "id": new_id("ch"), "object": "charge", "amount": intent["amount"], "amount_captured": 0,
        "amount_refunded": 0, "application": None, "application_fee": None, "application_fee_amount": None,
        "balance_transaction": None, "billing_details": copy.deepcopy(method["billing_details"]),
        "calculated_statement_descriptor": "VITRINE", "captured": False, "created": now(),
        "currency": intent["currency"], "customer": None, "description": intent["description"], "disputed": False,
        "failure_balance_transaction": None, "failure_code": decline.code if decline else None,
        "failure_message": decline.message if decline else None, "fraud_details": {}, "livemode": False,
        "metadata": dict(intent["metadata"]), "on_behalf_of": None,
        "outcome": _declined_outcome(decline) if decline else dict(APPROVED), "paid": decline is None,
        "payment_intent": intent["id"], "payment_method": method["id"],
        "payment_method_details": {"card": {
            "amount_authorized": None if decline else intent["amount"], "brand": card["brand"],
            "checks": dict(card["checks"]), "country": card["country"], "exp_month": card["exp_month"],
            "exp_year": card["exp_year"], "fingerprint": card["fingerprint"], "funding": card["funding"],
            "last4": card["last4"], "network": card["brand"], "three_d_secure": None, "wallet": None,
        }, "type": "card"},
        "receipt_email": intent["receipt_email"], "receipt_number": None, "receipt_url": None, "refunded": False,
        "review": None, "shipping": None, "source": None, "statement_descriptor": intent["statement_descriptor"],
        "statement_descriptor_suffix": intent["statement_descriptor_suffix"],
        "status": "failed" if decline else "succeeded", "transfer_data": None, "transfer_group": None,
    }
    call.state.add("charges", charge)
    call.state.stats["declines" if decline else "charges"] += 1
    return charge


def _declined_outcome(decline) -> dict:
    return {"network_status": "declined_by_network", "reason": decline.decline_code, "risk_level": "normal",
            "risk_score": 32, "seller_message": "The bank did not return any further details with this decline.",
            "type": "issuer_declined"}


def capture_charge(call: Call, charge_id: str, amount: int) -> dict:
    """Take `amount` of the authorization; as Stripe shows it, the part not taken counts as refunded."""
    charge = call.state.table("charges")[charge_id]
    charge.update(captured=True, amount_captured=amount, balance_transaction=new_id("txn"),
                  amount_refunded=charge["amount"] - amount)
    call.state.changed()
    return charge


def release_charge(call: Call, charge_id: str) -> None:
    """A canceled authorization: Stripe refunds the whole uncaptured amount (no Refund object, no event)."""
    charge = call.state.table("charges")[charge_id]
    charge.update(amount_refunded=charge["amount"], refunded=True)
    call.state.changed()


# -- endpoints ---------------------------------------------------------------------------------------------------------

RETRIEVE_SPEC: p.Spec = {"expand": p.EXPAND}
CHARGE_LIST_SPEC: p.Spec = {**LIST_SPEC, "payment_intent": p.string(200), "customer": p.string(200),
                            "created": created_filter}
REFUND_SPEC: p.Spec = {
    "payment_intent": p.string(200), "charge": p.string(200), "amount": p.integer(),
    "reason": p.enum("duplicate", "fraudulent", "requested_by_customer"), "metadata": p.metadata,
    "instructions_email": p.string(800), "expand": p.EXPAND,
}
REFUND_LIST_SPEC: p.Spec = {**LIST_SPEC, "payment_intent": p.string(200), "charge": p.string(200),
                            "created": created_filter}


def retrieve_charge(call: Call, params: dict, charge_id: str) -> dict:
    values = p.read(params, RETRIEVE_SPEC)
    charge = call.state.table("charges").get(charge_id)
    if charge is None:
        raise missing_object("charge", charge_id)
    return render(call.state, "charge", charge, values.get("expand", []))


def list_charges(call: Call, params: dict) -> dict:
    values = p.read(params, CHARGE_LIST_SPEC)
    items = [charge for charge in call.state.table("charges").values() if _matches(charge, values)]
    return page(call.state, "charges", items, values, "/v1/charges")


def _matches(obj: dict, values: dict) -> bool:
    return (("payment_intent" not in values or obj["payment_intent"] == values["payment_intent"])
            and ("charge" not in values or obj.get("charge") == values["charge"])
            and ("customer" not in values or obj.get("customer") == values["customer"])
            and ("created" not in values or values["created"](obj["created"])))


def create_refund(call: Call, params: dict) -> tuple[int, dict]:
    values = p.read(params, REFUND_SPEC)
    if "payment_intent" not in values and "charge" not in values:
        raise invalid("One of the following params should be provided for this request: payment_intent or charge.",
                      param="payment_intent", code="parameter_missing")
    charge = _refundable_charge(call, values)
    remaining = charge["amount"] - charge["amount_refunded"]
    if remaining <= 0:
        raise state_error(f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded")
    amount = values.get("amount", remaining)
    if amount < 1:
        raise invalid("Invalid positive integer", param="amount", code="parameter_invalid_integer")
    if amount > remaining:
        raise state_error(f"Refund amount ({shown(amount, charge['currency'])}) is greater than unrefunded amount "
                          f"on charge ({shown(remaining, charge['currency'])})", param="amount",
                          code="amount_too_large")
    refund = _add_refund(call, charge, amount, values)
    return 200, render(call.state, "refund", refund, values.get("expand", []))


def _refundable_charge(call: Call, values: dict) -> dict:
    """The captured charge a refund request names (by PaymentIntent or charge), or Stripe's refusal."""
    state = call.state
    if "payment_intent" in values:
        intent = state.table("payment_intents").get(values["payment_intent"])
        if intent is None:
            raise missing_object("payment_intent", values["payment_intent"], param="payment_intent")
        charge = state.table("charges").get(intent["latest_charge"] or "")
        if "charge" in values and (charge is None or charge["id"] != values["charge"]):
            raise invalid(f"The charge {values['charge']} does not belong to the PaymentIntent {intent['id']}.",
                          param="charge")
    else:
        charge = state.table("charges").get(values["charge"])
        if charge is None:
            raise missing_object("charge", values["charge"], param="charge")
        intent = state.table("payment_intents").get(charge["payment_intent"])
    if charge is None or charge["status"] != "succeeded":
        raise state_error(f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                          code="charge_not_refundable")
    if not charge["captured"]:
        raise state_error(f"This PaymentIntent ({intent['id']}) has not been captured, so it cannot be refunded. "
                          "Cancel the PaymentIntent to release the authorization instead.",
                          code="charge_not_refundable")
    return charge


def _add_refund(call: Call, charge: dict, amount: int, values: dict) -> dict:
    refund = {
        "id": new_id("re"), "object": "refund", "amount": amount, "balance_transaction": new_id("txn"),
        "charge": charge["id"], "created": now(), "currency": charge["currency"],
        "destination_details": {"card": {"reference_status": "pending", "reference_type": "acquirer_reference_number",
                                         "type": "refund"}, "type": "card"},
        "metadata": values.get("metadata", {}), "payment_intent": charge["payment_intent"],
        "reason": values.get("reason"), "receipt_number": None, "source_transfer_reversal": None,
        "status": "succeeded", "transfer_reversal": None,
    }
    call.state.add("refunds", refund)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    call.state.stats["refunds"] += 1
    call.emit("refund.created", refund)
    call.emit("charge.refunded", charge)
    return refund


def retrieve_refund(call: Call, params: dict, refund_id: str) -> dict:
    values = p.read(params, RETRIEVE_SPEC)
    refund = call.state.table("refunds").get(refund_id)
    if refund is None:
        raise missing_object("refund", refund_id)
    return render(call.state, "refund", refund, values.get("expand", []))


def list_refunds(call: Call, params: dict) -> dict:
    values = p.read(params, REFUND_LIST_SPEC)
    items = [refund for refund in call.state.table("refunds").values() if _matches(refund, values)]
    return page(call.state, "refunds", items, values, "/v1/refunds")


def check_decline_error(decline, charge: dict, intent: dict, method: dict) -> StripeError:
    """The 402 Stripe answers a declined confirmation with."""
    return StripeError(402, "card_error", decline.message, code=decline.code, decline_code=decline.decline_code,
                       charge=charge["id"], payment_intent=intent, payment_method=method)
