"""PaymentMethods (the one endpoint a publishable key may call, as Stripe.js
does from the shopper's browser) and webhook endpoints."""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from app.payments.emulator import cards, params as p
from app.payments.emulator.context import Call
from app.payments.emulator.errors import invalid, missing_object, missing_parameter
from app.payments.emulator.events import API_VERSION, EVENT_TYPES
from app.payments.emulator.listing import LIST_SPEC, created_filter, page
from app.payments.emulator.state import new_id, now

ADDRESS = {name: p.string(200) for name in ("city", "country", "line1", "line2", "postal_code", "state")}
CREATE_METHOD_SPEC: p.Spec = {
    "type": p.enum("card"),
    "card": {"number": p.string(40), "exp_month": p.integer(), "exp_year": p.integer(), "cvc": p.string(10)},
    "billing_details": {"name": p.string(200), "email": p.string(800), "phone": p.string(40), "address": ADDRESS},
    "metadata": p.metadata, "expand": p.EXPAND,
    # Sent by Stripe.js along with the card; accepted and ignored.
    "payment_user_agent": p.string(500), "time_on_page": p.string(20), "guid": p.string(100),
    "muid": p.string(100), "sid": p.string(100), "referrer": p.string(2048),
}


def create_payment_method(call: Call, params: dict) -> tuple[int, dict]:
    values = p.read(params, CREATE_METHOD_SPEC)
    if "type" not in values:
        raise missing_parameter("type")
    if "card" not in values:
        raise missing_parameter("card")
    if not call.publishable and not call.parts.allow_raw_cards:
        raise invalid(cards.RAW_CARD_REFUSED, param="card[number]")
    number, month, year, cvc = cards.check_card(values["card"])
    method = cards.add_payment_method(call.state, number, month, year, cvc, values.get("billing_details"),
                                      values.get("metadata"))
    return 200, method


def retrieve_payment_method(call: Call, params: dict, method_id: str) -> tuple[int, dict]:
    p.read(params, {"expand": p.EXPAND})
    if method_id in cards.TEST_PAYMENT_METHODS:
        return 200, cards.resolve(call.state, method_id)
    method = call.state.table("payment_methods").get(method_id)
    if method is None:
        raise missing_object("PaymentMethod", method_id)
    return 200, method


# -- webhook endpoints -------------------------------------------------------------------------------------------------

def _url(name: str, raw) -> str:
    url = p.string(2048)(name, raw)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("Invalid URL: URL must be publicly accessible and use http or https", param=name,
                      code="url_invalid")
    return url


def _events(name: str, raw) -> list[str]:
    wanted = p.string_list(200)(name, raw)
    for index, event_type in enumerate(wanted):
        if event_type != "*" and event_type not in EVENT_TYPES:
            raise invalid(f"Invalid {name}[{index}]: must be one of * or an event type this emulator sends "
                          f"({', '.join(EVENT_TYPES)})", param=f"{name}[{index}]")
    return wanted


ENDPOINT_SPEC: p.Spec = {"url": _url, "enabled_events": _events, "description": p.string(5000),
                         "metadata": p.metadata, "api_version": p.string(50), "expand": p.EXPAND}
ENDPOINT_UPDATE_SPEC: p.Spec = {"url": _url, "enabled_events": _events, "description": p.string(5000),
                                "metadata": p.metadata, "disabled": p.boolean, "expand": p.EXPAND}


def _shown_endpoint(endpoint: dict, with_secret: bool = False) -> dict:
    return endpoint if with_secret else {key: value for key, value in endpoint.items() if key != "secret"}


def create_endpoint(call: Call, params: dict) -> tuple[int, dict]:
    values = p.read(params, ENDPOINT_SPEC)
    for required in ("url", "enabled_events"):
        if required not in values:
            raise missing_parameter(required)
    endpoint = {
        "id": new_id("we"), "object": "webhook_endpoint", "api_version": values.get("api_version") or API_VERSION,
        "application": None, "created": now(), "description": values.get("description"),
        "enabled_events": values["enabled_events"], "livemode": False, "metadata": values.get("metadata", {}),
        "secret": "whsec_" + secrets.token_hex(24), "status": "enabled", "url": values["url"],
    }
    call.state.add("webhook_endpoints", endpoint)
    return 200, _shown_endpoint(endpoint, with_secret=True)  # Stripe shows the secret on creation only


def _endpoint(call: Call, endpoint_id: str) -> dict:
    endpoint = call.state.table("webhook_endpoints").get(endpoint_id)
    if endpoint is None:
        raise missing_object("webhook_endpoint", endpoint_id)
    return endpoint


def retrieve_endpoint(call: Call, params: dict, endpoint_id: str) -> tuple[int, dict]:
    p.read(params, {"expand": p.EXPAND})
    return 200, _shown_endpoint(_endpoint(call, endpoint_id))


def update_endpoint(call: Call, params: dict, endpoint_id: str) -> tuple[int, dict]:
    values = p.read(params, ENDPOINT_UPDATE_SPEC)
    endpoint = _endpoint(call, endpoint_id)
    for field in ("url", "enabled_events", "description"):
        if field in values:
            endpoint[field] = values[field]
    if "metadata" in values:
        endpoint["metadata"] = p.merge_metadata(endpoint["metadata"], values["metadata"], params.get("metadata"))
    if "disabled" in values:
        endpoint["status"] = "disabled" if values["disabled"] else "enabled"
    call.state.changed()
    return 200, _shown_endpoint(endpoint)


def delete_endpoint(call: Call, params: dict, endpoint_id: str) -> tuple[int, dict]:
    p.read(params, {})
    _endpoint(call, endpoint_id)
    del call.state.table("webhook_endpoints")[endpoint_id]
    call.state.changed()
    return 200, {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True}


def list_endpoints(call: Call, params: dict) -> tuple[int, dict]:
    values = p.read(params, LIST_SPEC)
    listed = page(call.state, "webhook_endpoints", list(call.state.table("webhook_endpoints").values()), values,
                  "/v1/webhook_endpoints")
    listed["data"] = [_shown_endpoint(endpoint) for endpoint in listed["data"]]
    return 200, listed


# -- events ------------------------------------------------------------------------------------------------------------

def retrieve_event(call: Call, params: dict, event_id: str) -> tuple[int, dict]:
    p.read(params, {"expand": p.EXPAND})
    event = call.state.table("events").get(event_id)
    if event is None:
        raise missing_object("event", event_id)
    return 200, event


def list_events(call: Call, params: dict) -> tuple[int, dict]:
    values = p.read(params, {**LIST_SPEC, "type": p.string(200), "types": p.string_list(200),
                             "created": created_filter, "delivery_success": p.boolean})
    types = set(values.get("types", [])) | ({values["type"]} if "type" in values else set())
    items = [event for event in call.state.table("events").values()
             if (not types or event["type"] in types or _wildcard(event["type"], types))
             and ("created" not in values or values["created"](event["created"]))]
    return 200, page(call.state, "events", items, values, "/v1/events")


def _wildcard(event_type: str, types: set[str]) -> bool:
    """`type=payment_intent.*` as Stripe allows."""
    return any(wanted.endswith(".*") and event_type.startswith(wanted[:-1]) for wanted in types)
