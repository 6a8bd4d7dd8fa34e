"""Events, and their delivery to webhook endpoints signed the way Stripe signs
them: `Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.payload">`
keyed with the endpoint's `whsec_` secret.

Delivery runs on background threads, a few at once, so the order is not
guaranteed (as with Stripe). A receiver that fails (no 2xx, or no answer)
gets the event again after base * 2**attempt seconds, up to `max_attempts`.
"""
from __future__ import annotations

import heapq
import hashlib
import hmac
import itertools
import json
import threading
import time
from dataclasses import dataclass, field

import requests

from app.payments.emulator.state import State, new_id, now

API_VERSION = "2026-10-28.endive"
EVENT_TYPES = (
    "payment_intent.created", "payment_intent.requires_action", "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded", "payment_intent.payment_failed", "payment_intent.canceled",
    "charge.succeeded", "charge.failed", "charge.captured", "charge.refunded", "refund.created",
)


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass(order=True)
class Delivery:
    due: float
    order: int
    event_id: str = field(compare=False)
    url: str = field(compare=False)
    secret: str = field(compare=False)
    attempt: int = field(compare=False, default=0)


@dataclass
class StaticEndpoint:
    """The endpoint given on the command line: every event goes there."""
    url: str
    secret: str


class Webhooks:
    def __init__(self, state: State, static: StaticEndpoint | None, retry_base: float, max_attempts: int,
                 threads: int = 4):
        self.state, self.static, self.retry_base, self.max_attempts = state, static, retry_base, max_attempts
        self._queue: list[Delivery] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopping = False
        self._threads = [threading.Thread(target=self._work, name=f"emulator-webhooks-{n}", daemon=True)
                         for n in range(threads)]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()

    def clear(self) -> None:
        with self._wake:
            self._queue.clear()

    # -- emitting (called with the state lock held) --------------------------------------------------------------------

    def emit(self, type_: str, obj: dict, request: dict | None) -> dict:
        """Record an event about `obj` (a copy as it is now) and queue it for every endpoint that wants it."""
        event = {
            "id": new_id("evt"), "object": "event", "api_version": API_VERSION, "created": now(),
            "data": {"object": json.loads(json.dumps(obj))}, "livemode": False, "pending_webhooks": 0,
            "request": request or {"id": None, "idempotency_key": None}, "type": type_,
        }
        targets = self._targets(type_)
        event["pending_webhooks"] = len(targets)
        self.state.add("events", event)
        self.state.stats["events"] += 1
        with self._wake:
            for url, secret in targets:
                heapq.heappush(self._queue, Delivery(time.monotonic(), next(self._order), event["id"], url, secret))
            self._wake.notify(len(targets))
        return event

    def _targets(self, type_: str) -> list[tuple[str, str]]:
        targets = [(self.static.url, self.static.secret)] if self.static else []
        for endpoint in self.state.table("webhook_endpoints").values():
            wanted = endpoint["enabled_events"]
            if endpoint["status"] == "enabled" and ("*" in wanted or type_ in wanted):
                targets.append((endpoint["url"], endpoint["secret"]))
        return targets

    # -- delivering ----------------------------------------------------------------------------------------------------

    def _work(self) -> None:
        session = requests.Session()  # one per thread: a Session is not made to be shared between threads
        while True:
            delivery = self._next()
            if delivery is None:
                session.close()
                return
            self._attempt(session, delivery)

    def _next(self) -> Delivery | None:
        with self._wake:
            while not self._stopping:
                if self._queue and self._queue[0].due <= time.monotonic():
                    return heapq.heappop(self._queue)
                timeout = self._queue[0].due - time.monotonic() if self._queue else None
                self._wake.wait(timeout)
            return None

    def _attempt(self, session: requests.Session, delivery: Delivery) -> None:
        with self.state.lock:
            event = self.state.table("events").get(delivery.event_id)
            payload = json.dumps(event, indent=2).encode() if event else None
        if payload is None:  # reset since it was queued
            return
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                   "Stripe-Signature": sign(payload, delivery.secret, now())}
        try:
            delivered = session.post(delivery.url, data=payload, headers=headers, timeout=10).ok
        except requests.RequestException:
            delivered = False
        self._record(delivery, delivered)

    def _record(self, delivery: Delivery, delivered: bool) -> None:
        with self.state.lock:
            event = self.state.table("events").get(delivery.event_id)
            if event is None:  # the emulator was reset meanwhile: this delivery belongs to no test any more
                return
            if delivered:
                self.state.stats["webhook_deliveries"] += 1
                event["pending_webhooks"] = max(0, event["pending_webhooks"] - 1)
                return
            self.state.stats["webhook_failures"] += 1
            if delivery.attempt + 1 >= self.max_attempts:
                self.state.stats["webhook_abandoned"] += 1
                return
        retry = Delivery(time.monotonic() + self.retry_base * 2 ** delivery.attempt, next(self._order),
                         delivery.event_id, delivery.url, delivery.secret, delivery.attempt + 1)
        with self._wake:
            heapq.heappush(self._queue, retry)
            self._wake.notify()
