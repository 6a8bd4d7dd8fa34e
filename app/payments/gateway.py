"""Card payments through the official `stripe` SDK: real Stripe with a real
key, else the local emulator (same code, another base address).

Every call that creates or changes money carries an idempotency key, so a
retried call is answered with the first call's result and never charges
twice. A call that timed out is followed by a look-up of the PaymentIntent
(by the order's token in its metadata) before it is tried again with the same
key. After repeated failures of the PSP itself (5xx, no answer) a circuit
breaker stops calling it for a while: shoppers are told to try again
shortly instead of each waiting for a timeout.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import stripe
from flask import current_app, g, has_request_context

# PaymentIntent status -> our payment status (app.payments.models.STATUSES)
_STATUS = {"requires_payment_method": "pending", "requires_confirmation": "pending", "processing": "pending",
           "requires_action": "requires_action", "requires_capture": "authorized", "succeeded": "captured",
           "canceled": "voided"}
BREAKER_FAILURES = 5  # PSP failures in a row that open the breaker
BREAKER_COOLDOWN = 30.0  # seconds it stays open


@dataclass(frozen=True)
class Intent:
    """What we keep of a PaymentIntent."""

    id: str
    status: str  # ours: pending, requires_action, authorized, captured, voided, failed
    amount: int
    capturable: int
    received: int
    currency: str
    redirect_url: str | None = None
    error: str | None = None  # the last decline, as Stripe worded it
    card: str | None = None  # "Visa •••• 4242"
    fingerprint: str | None = None


class PaymentError(Exception):
    def __init__(self, message: str, intent: Intent | None = None, code: str | None = None):
        super().__init__(message)
        self.message, self.intent, self.code = message, intent, code


class Declined(PaymentError):
    """The card was declined (Stripe's message says why); nothing was charged."""


class Unavailable(PaymentError):
    """The PSP is failing or not answering: try again shortly."""


class Refused(PaymentError):
    """The PSP refused the request itself (an amount it does not take, a state it cannot move from)."""


class _Breaker:
    def __init__(self):
        self._lock = threading.Lock()
        self._failures, self._open_until = 0, 0.0

    def check(self) -> None:
        if time.monotonic() < self._open_until:
            raise Unavailable("Card payments are unavailable for a moment. Please try again shortly.")

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= BREAKER_FAILURES:
                self._open_until, self._failures = time.monotonic() + BREAKER_COOLDOWN, 0


breaker = _Breaker()


def _client() -> stripe.StripeClient:
    app = current_app._get_current_object()
    if "stripe" not in app.extensions:
        config = app.config
        app.extensions["stripe"] = stripe.StripeClient(
            config["STRIPE_SECRET_KEY"], base_addresses={"api": config["STRIPE_API_BASE"]},
            http_client=stripe.RequestsClient(timeout=config["STRIPE_TIMEOUT"]), max_network_retries=0)
    return app.extensions["stripe"]


def psp_milliseconds() -> float:
    """Time this request spent waiting for the PSP (its Server-Timing)."""
    return g.get("psp_seconds", 0.0) * 1000 if has_request_context() else 0.0


def _call(fn, *args, **kwargs):
    """One call to the PSP through the breaker; Stripe's errors become ours."""
    breaker.check()
    started = time.perf_counter()
    try:
        result = fn(*args, **kwargs)
    except stripe.CardError as error:
        breaker.succeeded()
        raise Declined(error.user_message or str(error), _intent_of_error(error), error.code) from None
    except (stripe.APIConnectionError, stripe.APIError, stripe.RateLimitError) as error:
        breaker.failed()
        raise Unavailable("The payment provider did not answer. Please try again shortly.") from error
    except stripe.IdempotencyError as error:  # the key was used with other parameters: a bug, never retried
        raise Refused(error.user_message or str(error), code="idempotency_error") from None
    except stripe.InvalidRequestError as error:
        breaker.succeeded()
        raise Refused(error.user_message or str(error), code=error.code) from None
    finally:
        if has_request_context():
            g.psp_seconds = g.get("psp_seconds", 0.0) + time.perf_counter() - started
    breaker.succeeded()
    return result


def authorize(*, amount: int, currency: str, payment_method: str, key: str, order_token: str, store_id: int,
              return_url: str, email: str, description: str) -> Intent:
    """Create and confirm a PaymentIntent to be captured later. Declined
    raises Declined; no answer looks the intent up, then asks once more with
    the same idempotency key (Stripe answers that with the first result)."""
    params = {"amount": amount, "currency": currency.lower(), "capture_method": "manual", "confirm": True,
              "payment_method": payment_method, "payment_method_types": ["card"], "return_url": return_url,
              "receipt_email": email, "description": description,
              "metadata": {"order_token": order_token, "store_id": str(store_id)}}
    try:
        return _intent(_call(_client().v1.payment_intents.create, params, {"idempotency_key": key}))
    except Unavailable:
        found = find(order_token)
        if found is not None:
            return found
        return _intent(_call(_client().v1.payment_intents.create, params, {"idempotency_key": key}))


def find(order_token: str) -> Intent | None:
    """The PaymentIntent made for an order, if the PSP has one."""
    found = _call(_client().v1.payment_intents.search, {"query": f"metadata['order_token']:'{order_token}'"})
    return _intent(found.data[0]) if found.data else None


def is_payment_method_id(value) -> bool:
    """A card tokenized by the PSP (pm_…), as the checkout's form or API sends it: nothing else is passed on."""
    return (isinstance(value, str) and value.startswith("pm_") and 4 <= len(value) <= 255 and value.isascii()
            and value.replace("_", "").isalnum())


def fingerprint(payment_method: str | None) -> str | None:
    """The card's fingerprint (the same card gives the same one, never its number), for the fraud rules;
    None when there is no card or the PSP cannot say (the payment itself will then tell)."""
    if not payment_method:
        return None
    try:
        method = _call(_client().v1.payment_methods.retrieve, payment_method)
    except PaymentError:
        return None
    card = getattr(method, "card", None)
    return getattr(card, "fingerprint", None) if card else None


def store_intents(store_id: int, psp_status: str, pages: int = 10) -> list[tuple[str | None, Intent]]:
    """(order token, intent) of the store's PaymentIntents in Stripe's `psp_status` (requires_capture,
    requires_action), newest first, at most `pages` pages of 100: what reconciliation compares with the orders."""
    query = {"query": f"metadata['store_id']:'{int(store_id)}' AND status:'{psp_status}'", "limit": 100}
    found: list[tuple[str | None, Intent]] = []
    for _ in range(pages):
        result = _call(_client().v1.payment_intents.search, query)
        found += [(_metadata(pi, "order_token"), _intent(pi)) for pi in result.data]
        if not result.has_more:
            break
        query = {**query, "page": result.next_page}
    return found


def _metadata(pi, key: str) -> str | None:
    metadata = getattr(pi, "metadata", None)
    return metadata[key] if metadata is not None and key in metadata else None


def retrieve(intent_id: str) -> Intent:
    return _intent(_call(_client().v1.payment_intents.retrieve, intent_id))


def capture(intent_id: str, amount: int, key: str) -> Intent:
    return _intent(_call(_client().v1.payment_intents.capture, intent_id, {"amount_to_capture": amount},
                         {"idempotency_key": key}))


def void(intent_id: str, key: str) -> Intent:
    return _intent(_call(_client().v1.payment_intents.cancel, intent_id, {"cancellation_reason": "abandoned"},
                         {"idempotency_key": key}))


def refund(intent_id: str, amount: int, key: str) -> str:
    """Refund `amount` of a captured payment; the PSP's refund id."""
    return _call(_client().v1.refunds.create, {"payment_intent": intent_id, "amount": amount},
                 {"idempotency_key": key}).id


def _intent(pi) -> Intent:
    status = _STATUS.get(pi.status, "pending")
    error = pi.last_payment_error.message if getattr(pi, "last_payment_error", None) else None
    if status == "pending" and error:
        status = "failed"
    action = getattr(pi, "next_action", None)
    redirect = action.redirect_to_url.url if action and action.type == "redirect_to_url" else None
    return Intent(pi.id, status, pi.amount, pi.amount_capturable or 0, pi.amount_received or 0, pi.currency.upper(),
                  redirect, error)


def _intent_of_error(error: stripe.CardError) -> Intent | None:
    pi = getattr(error.error, "payment_intent", None) if error.error else None
    return _intent(pi) if pi is not None else None
