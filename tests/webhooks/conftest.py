"""A real HTTP receiver on 127.0.0.1 (a threaded http.server) that records
what webhooks bring and answers with the statuses a test gives it, and
helpers to register endpoints and run real workers on the webhooks queue."""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.config import ROOT
from tests.conftest import flask_cli

SECRET_RE = re.compile(r'id="webhook-secret">([^<]+)<')


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next of `statuses` (the last one repeats)."""

    statuses: list[int] = field(default_factory=lambda: [200])
    received: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def answer(self) -> int:
        index = min(len(self.received) - 1, len(self.statuses) - 1)
        return self.statuses[index]


def verify(received: Received, secret: str) -> bool:
    """What a merchant's receiver does: recompute the HMAC of the raw body and compare."""
    expected = base64.b64encode(hmac.new(secret.encode(), received.body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, received.headers.get("X-Vitrine-Hmac-Sha256", ""))


@pytest.fixture
def receiver():
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                state.received.append(Received(self.path, dict(self.headers), body))
                status = state.answer()
            reply = b"thanks" if status < 300 else b"receiver is down\x00 for now"
            self.send_response(status)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def loopback(app, monkeypatch):
    """Endpoints on 127.0.0.1 are allowed (the tests' receiver); fast retries."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_SCHEDULE", [1.0, 1.0, 1.0])
    return app


WORKER_ENV = {"WEBHOOK_ALLOW_PRIVATE_URLS": "1", "WEBHOOK_RETRY_SCHEDULE": "1,1,1"}


def run_webhook_worker(service_env, **env):
    """A real burst worker on the webhooks queue, until the queue is empty."""
    result = flask_cli({**service_env, **WORKER_ENV, **env}, "worker", "--burst", "--queue", "webhooks")
    assert "Traceback" not in result.stderr, result.stderr
    return result


def start_webhook_worker(service_env, log_path, **env) -> subprocess.Popen:
    """A real worker (with RQ's scheduler, for the retries) that runs until stopped."""
    import os

    with open(log_path, "w") as log:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--queue", "webhooks"],
                                cwd=ROOT, env={**os.environ, **service_env, **WORKER_ENV, **env}, stdout=log,
                                stderr=subprocess.STDOUT)


def add_endpoint(browser, handle: str, url: str, topics=("orders/create",)) -> tuple[int, str]:
    """Register an endpoint through the dashboard; (its id, the secret shown once)."""
    page = f"/dashboard/{handle}/webhooks"
    response = browser.post(page, {"url": url, "topics": list(topics)}, csrf_from=page)
    text = response.get_data(as_text=True)
    assert response.status_code == 200, text
    endpoint_id = int(re.search(rf'href="{page}/(\d+)"', text).group(1))
    return endpoint_id, SECRET_RE.search(text).group(1)
