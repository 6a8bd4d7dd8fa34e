"""What every endpoint gets: the emulator's parts and this call's facts."""
from __future__ import annotations

from dataclasses import dataclass

from app.payments.emulator.events import Webhooks
from app.payments.emulator.state import State


@dataclass
class Parts:
    state: State
    webhooks: Webhooks
    allow_raw_cards: bool = False  # Stripe refuses card numbers sent with a secret key unless enabled


@dataclass
class Call:
    parts: Parts
    request_id: str
    idempotency_key: str | None
    host_url: str  # the emulator as the client reached it, for the 3DS page's address
    publishable: bool = False
    charged: bool = False  # this call attempted a charge (for the timeout_after_charge fault)

    @property
    def state(self) -> State:
        return self.parts.state

    def emit(self, type_: str, obj: dict) -> None:
        self.parts.webhooks.emit(type_, obj, {"id": self.request_id, "idempotency_key": self.idempotency_key})
