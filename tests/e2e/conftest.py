"""A live server (gunicorn, real HTTP) and headless Chromium driven by Playwright."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from app.cli import web_command
from app.config import ROOT
from tests.conftest import TEST_VAR

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run",
                 # *.localhost is loopback; map it to the IPv4 address the server listens on.
                 "--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP localhost 127.0.0.1"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(app, service_env):
    """The app under gunicorn in its own process; yields its base URL."""
    port = _free_port()
    log = open(TEST_VAR / "live-server.log", "w")
    process = subprocess.Popen(web_command("127.0.0.1", port, 1, TEST_VAR, access_log=False),
                               cwd=ROOT, env={**os.environ, **service_env}, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while True:  # wait until it answers: readiness, not a fixed delay
        try:
            if requests.get(f"{base}/healthz", timeout=2).ok:
                break
        except requests.RequestException:  # not up yet, or too busy to answer in time
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"live server did not start; see {log.name}")
        time.sleep(0.1)
    yield port
    process.terminate()
    process.wait(timeout=30)
    log.close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        executable = str(CHROMIUM) if CHROMIUM.exists() else None
        browser = playwright.chromium.launch(headless=True, executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page; the journey fails if the page broke the Content-Security-Policy (an inline
    script or style somewhere) or hit a script error."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    yield page
    context.close()
    assert problems == [], problems
