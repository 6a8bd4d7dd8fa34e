"""A merchant works an order in the browser: finds it in the list, fulfils it with tracking (which
captures the card payment), is refused a refund above what was captured, then refunds part of it."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.checkout.helpers import shop_with_rate
from tests.conftest import PASSWORD, as_store, run_effects
from tests.e2e.a11y import axe_problems
from tests.orders.helpers import place

pytestmark = pytest.mark.e2e


def test_a_merchant_fulfils_and_refunds_an_order(app, live_server, page, make_account, make_store):
    owner = make_account("Olu Orders")
    shop = shop_with_rate(app, lambda: make_store(owner=owner, name="Ordered Goods"))
    order = place(app, shop, {"Linen Tee": 2})
    base = f"http://localhost:{live_server}"
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/dashboard/{shop.store.handle}/")

    page.get_by_role("link", name="Orders", exact=True).click()
    page.get_by_label("Search orders").fill(str(order["number"]))
    page.get_by_role("link", name=order["name"]).click()
    expect(page.get_by_role("heading", name=f"Order {order['name']}")).to_be_visible()
    page.locator("#fulfil-carrier").fill("UPS")
    page.locator("#fulfil-number").fill("1Z999")
    page.locator("#fulfil-url").fill("https://ups.example/track/1Z999")
    page.get_by_role("button", name="Fulfil", exact=True).click()
    expect(page.get_by_text("Fulfilled. The capture of the payment follows.")).to_be_visible()
    expect(page.get_by_role("link", name="1Z999")).to_be_visible()
    assert axe_problems(page) == []

    with as_store(app, shop.store):
        run_effects("payments")  # the capture job
    page.reload()
    expect(page.get_by_text("Payment: Paid")).to_be_visible()
    page.locator("#refund-amount").fill("999.00")
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.get_by_text("Refund an amount from").first).to_be_visible()
    assert axe_problems(page) == []
    page.locator("#refund-amount").fill("10.00")
    page.locator("#refund-reason").fill("Scuffed")
    page.get_by_role("button", name="Refund", exact=True).click()
    expect(page.get_by_text("Payment: Partially refunded")).to_be_visible()
    expect(page.get_by_text("Refunded $10.00: Scuffed.")).to_be_visible()
