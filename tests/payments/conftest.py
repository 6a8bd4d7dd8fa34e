"""The Stripe emulator as a real process for the session, and a real HTTP
receiver for its webhooks. Tests drive it with the official `stripe` SDK."""
from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
import stripe

from tests.conftest import start_stripe_emulator

SECRET_KEY = "sk_test_vitrineEmulatorTests01"
PUBLISHABLE_KEY = "pk_test_vitrineEmulatorTests01"
WEBHOOK_SECRET = "whsec_vitrineEmulatorTestSecret0001"


class WebhookReceiver:
    """A local endpoint that records what it is sent; told to, it fails the next n deliveries with a 500."""

    def __init__(self):
        self._lock = threading.Lock()
        self.deliveries: list[tuple[dict, bytes]] = []  # (headers, body) of every request, failed ones too
        self._failing = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    receiver.deliveries.append((dict(self.headers), body))
                    failing = receiver._failing > 0
                    receiver._failing -= 1 if failing else 0
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._failing = count

    def clear(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self._failing = 0

    def received(self) -> list[tuple[dict, bytes]]:
        with self._lock:
            return list(self.deliveries)

    def events_about(self, object_id: str) -> list[dict]:
        """The events (parsed, every delivery attempt) whose object is `object_id`."""
        events = [json.loads(body) for _, body in self.received()]
        return [event for event in events if event["data"]["object"]["id"] == object_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class StripeEmulator:
    url: str
    webhook_secret: str
    receiver: WebhookReceiver
    process: subprocess.Popen = field(repr=False)
    secret_key: str = SECRET_KEY
    publishable_key: str = PUBLISHABLE_KEY

    def client(self, api_key: str | None = None, retries: int = 0, timeout: float = 10) -> stripe.StripeClient:
        """The SDK pointed at the emulator, per client: no module-level state."""
        return stripe.StripeClient(api_key or self.secret_key, base_addresses={"api": self.url},
                                   max_network_retries=retries, http_client=stripe.RequestsClient(timeout=timeout))

    def faults(self, **settings) -> dict:
        response = requests.post(f"{self.url}/_emulator/faults", json=settings, timeout=5)
        response.raise_for_status()
        return response.json()

    def reset(self) -> None:
        requests.post(f"{self.url}/_emulator/reset", timeout=5).raise_for_status()

    def stats(self) -> dict:
        return requests.get(f"{self.url}/_emulator/stats", timeout=5).json()

    def post(self, path: str, data=None, key: str | None = None, headers: dict | None = None) -> requests.Response:
        """A raw API call, for what the SDK hides (headers, exact bodies)."""
        return requests.post(self.url + path, data=data, timeout=10,
                             headers={"Authorization": f"Bearer {key or self.secret_key}", **(headers or {})})

    def get(self, path: str, params=None, key: str | None = None) -> requests.Response:
        return requests.get(self.url + path, params=params, timeout=10,
                            headers={"Authorization": f"Bearer {key or self.secret_key}"})


def start_emulator(*extra: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    """`python -m app.payments.emulator` on a free port; returns once it prints that it listens."""
    return start_stripe_emulator(log_path, *extra)


def stop_emulator(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="session")
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="session")
def stripe_emulator(webhook_receiver, tmp_path_factory):
    log_path = tmp_path_factory.mktemp("emulator") / "emulator.log"
    process, url = start_emulator("--webhook-url", webhook_receiver.url, "--webhook-secret", WEBHOOK_SECRET,
                                  "--webhook-retry-base-seconds", "0.05", "--webhook-max-attempts", "5",
                                  log_path=log_path)
    yield StripeEmulator(url, WEBHOOK_SECRET, webhook_receiver, process)
    stop_emulator(process)


@pytest.fixture
def emulator(stripe_emulator):
    """The session's emulator, emptied (objects, counts, faults, idempotency keys) and its receiver cleared."""
    stripe_emulator.reset()
    stripe_emulator.receiver.clear()
    yield stripe_emulator
    stripe_emulator.faults()  # no fault outlives its test


@pytest.fixture
def client(emulator) -> stripe.StripeClient:
    return emulator.client()
