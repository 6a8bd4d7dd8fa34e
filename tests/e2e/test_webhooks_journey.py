"""Webhooks in the browser: a merchant's endpoint is listed, a private address
is refused with a clear message, a test event is sent (a real worker posts it
to a real receiver) and shows as delivered, and rotating shows the new secret once."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from werkzeug.datastructures import MultiDict

from app.webhooks import service
from tests.conftest import PASSWORD, as_store
from tests.e2e.a11y import axe_problems
from tests.webhooks.conftest import receiver, run_webhook_worker, verify  # noqa: F401  (receiver: a fixture)

pytestmark = pytest.mark.e2e


def test_a_merchant_sends_a_test_event_and_rotates_the_secret(app, live_server, page, make_account, make_store,
                                                               receiver, monkeypatch, service_env):  # noqa: F811
    owner = make_account("Wanda Webhook")
    store = make_store(owner=owner, name="Hooked Goods")
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", True)  # registered as in development
    with as_store(app, store):
        endpoint = service.create_endpoint(MultiDict({"url": receiver.url, "topics": "orders/paid"}), actor="t")
        secret = endpoint.secret
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE_URLS", False)
    base = f"http://localhost:{live_server}"
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/dashboard/{store.handle}/")

    page.get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
    page.get_by_label("URL").fill("http://10.0.0.7/hooks")
    page.get_by_label("orders/create").check()
    page.get_by_role("button", name="Add the endpoint").click()
    expect(page.get_by_text("only sent to public addresses")).to_be_visible()
    assert axe_problems(page) == []

    page.get_by_role("link", name=receiver.url).click()
    expect(page.get_by_role("heading", name="Webhook endpoint")).to_be_visible()
    page.get_by_role("button", name="Send test event").click()
    expect(page.get_by_text("Queued a test orders/paid event")).to_be_visible()
    run_webhook_worker(service_env)
    page.reload()
    expect(page.locator("tbody .badge", has_text="Delivered")).to_be_visible()
    assert len(receiver.received) == 1 and verify(receiver.received[0], secret)
    assert axe_problems(page) == []

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_role("heading", name="New signing secret")).to_be_visible()
    new = page.locator("#webhook-secret").inner_text()
    assert new.startswith("whsec_") and new != secret
