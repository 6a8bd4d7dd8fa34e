"""A local Stripe-compatible emulator: the part of Stripe's REST API our
checkout uses (PaymentMethods, PaymentIntents, Charges, Refunds, Events,
webhook endpoints, idempotency keys, signed webhooks), so the official
`stripe` SDK pointed at it behaves as against Stripe in test mode.

Run it as its own process: `python -m app.payments.emulator --port 12111`.
It needs neither PostgreSQL nor Redis; its state lives in memory (and in
--state-file when given).
"""
from __future__ import annotations

from pathlib import Path

from app.payments.emulator.context import Parts
from app.payments.emulator.events import StaticEndpoint, Webhooks
from app.payments.emulator.server import Emulator
from app.payments.emulator.state import State


def build(webhook_url: str | None = None, webhook_secret: str | None = None, state_file: Path | None = None,
          retry_base: float = 5.0, max_attempts: int = 8, allow_raw_cards: bool = False) -> Emulator:
    """The WSGI application with its state and webhook sender (not yet started: see `start`)."""
    state = State(state_file)
    static = StaticEndpoint(webhook_url, webhook_secret or "") if webhook_url else None
    webhooks = Webhooks(state, static, retry_base, max_attempts)
    return Emulator(Parts(state, webhooks, allow_raw_cards))


def start(emulator: Emulator) -> None:
    emulator.parts.webhooks.start()
    emulator.parts.state.start_saving()


def stop(emulator: Emulator) -> None:
    emulator.parts.webhooks.stop()
    emulator.parts.state.stop()
