"""Idempotency keys as Stripe documents them.

Per API key: the first request with a key reserves it; once it finishes, its
status and body are saved for 24 hours, and the same request again replays
them (`Idempotent-Replayed: true`). The same key with other parameters or
another endpoint is an `idempotency_error` (400); while the first is still
running, another use answers 409. Results are not saved when the request was
refused before the endpoint ran (parameters failed validation) so a
corrected retry may use the same key.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from app.payments.emulator.errors import StripeError

TTL = 24 * 3600
MAX_KEY = 255
MAX_SAVED = 500_000  # the oldest go first past this, so a long load test cannot exhaust memory


@dataclass
class Saved:
    fingerprint: tuple
    at: float
    request_id: str
    status: int | None = None  # None while the first request is in flight
    body: bytes = b""


class Conflict(Exception):
    def __init__(self, error: StripeError):
        self.error = error


class Replay(Exception):
    def __init__(self, saved: Saved):
        self.saved = saved


class IdempotencyKeys:
    def __init__(self):
        self._lock = threading.Lock()
        self._saved: OrderedDict[tuple[str, str], Saved] = OrderedDict()

    def reserve(self, api_key: str, key: str, fingerprint: tuple, request_id: str) -> None:
        """Take `key` for this request, or raise Replay (same request seen) or Conflict."""
        if len(key) > MAX_KEY:
            raise Conflict(StripeError(400, "invalid_request_error",
                                       f"Idempotency-Key must be at most {MAX_KEY} characters long."))
        with self._lock:
            self._expire()
            saved = self._saved.get((api_key, key))
            if saved is None:
                self._saved[(api_key, key)] = Saved(fingerprint, time.monotonic(), request_id)
                return
            if saved.fingerprint[:2] != fingerprint[:2]:
                raise Conflict(StripeError(
                    400, "idempotency_error",
                    f"Keys for idempotent requests can only be used for the same endpoint they were first used for "
                    f"('{saved.fingerprint[0]} {saved.fingerprint[1]}' vs '{fingerprint[0]} {fingerprint[1]}'). "
                    f"Try using a key other than '{key}' if you meant to execute a different request."))
            if saved.fingerprint != fingerprint:
                raise Conflict(StripeError(
                    400, "idempotency_error",
                    "Keys for idempotent requests can only be used with the same parameters they were first used "
                    f"with. Try using a key other than '{key}' if you meant to execute a different request."))
            if saved.status is None:
                raise Conflict(StripeError(
                    409, "invalid_request_error",
                    "There is currently another in-progress request using this Stripe-Idempotency-Key (that "
                    "probably means you submitted twice, and the other request is still going through): "
                    f"{key}. Please try again later.", code="idempotency_key_in_use"))
            raise Replay(saved)

    def finish(self, api_key: str, key: str, status: int, body: bytes) -> None:
        with self._lock:
            saved = self._saved.get((api_key, key))
            if saved is not None:
                saved.status, saved.body = status, body

    def release(self, api_key: str, key: str) -> None:
        with self._lock:
            self._saved.pop((api_key, key), None)

    def in_flight(self) -> int:
        with self._lock:
            return sum(1 for saved in self._saved.values() if saved.status is None)

    def clear(self) -> None:
        with self._lock:
            self._saved.clear()

    def _expire(self) -> None:
        horizon = time.monotonic() - TTL
        while self._saved:
            oldest_key, oldest = next(iter(self._saved.items()))
            if oldest.at >= horizon and len(self._saved) < MAX_SAVED:
                return
            if oldest.status is None and len(self._saved) < MAX_SAVED:
                return
            del self._saved[oldest_key]
