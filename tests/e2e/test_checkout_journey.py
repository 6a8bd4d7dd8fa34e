"""A shopper in the browser checks out: address, shipping, then pays with
4242 4242 4242 4242 (the card goes from the page to the Stripe emulator;
only its PaymentMethod id reaches the shop) and lands on the order page.
A declined card first says why and keeps the cart. The merchant then
fulfils the order with a tracking number in the dashboard, the shopper sees
it shipped, and the receipt and the shipping confirmation reach a real
SMTP server."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from werkzeug.datastructures import MultiDict

from app.checkout import shipping
from tests.cart.helpers import levels, make_shop
from tests.conftest import PASSWORD, as_store, run_effects
from tests.e2e.a11y import axe_problems
from tests.platform.test_smtp import smtp_server

pytestmark = pytest.mark.e2e


def test_checkout_pay_by_card_fulfil_and_mail(app, make_account, make_store, live_server, browser, page,
                                              monkeypatch):
    owner = make_account("Fay Fulfils")
    shop = make_shop(app, lambda: make_store(owner=owner, name="Journey Goods"), {"Linen Tee": 5})
    with as_store(app, shop.store):
        zone = shipping.create_zone(MultiDict({"name": "Home", "places": "US"}), actor="owner@example.com")
        shipping.create_rate(zone.id, MultiDict({"name": "Parcel", "kind": "flat", "price": "5.00"}),
                             actor="owner@example.com")
    base = f"http://{shop.store.handle}.localhost:{live_server}"
    tee = shop.variants["Linen Tee"]

    page.goto(f"{base}/products/{shop.handles['Linen Tee']}")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status").filter(has_text="Added to your cart")).to_be_visible()
    page.goto(f"{base}/cart")
    page.get_by_role("link", name="Check out").click()

    expect(page.get_by_role("heading", name="Contact and shipping address")).to_be_visible()
    assert axe_problems(page) == []
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Full name").fill("Ada Shopper")
    page.get_by_label("Address", exact=True).fill("1 Market St")
    page.get_by_label("City").fill("San Francisco")
    page.get_by_label("Postal code").fill("94105")
    page.get_by_label("Country").select_option("US")
    page.get_by_role("button", name="Continue to shipping").click()

    expect(page.get_by_role("heading", name="Shipping method")).to_be_visible()
    expect(page.get_by_label("Parcel — $5.00")).to_be_checked()
    page.get_by_role("button", name="Continue to payment").click()

    expect(page.get_by_role("heading", name="Review and pay")).to_be_visible()
    assert axe_problems(page) == []
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Pay $45.00").click()
    expect(page.get_by_role("alert")).to_contain_text("declined")
    assert levels(app, shop, tee) == (5, 2)  # still held for the cart

    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("Security code").fill("123")
    page.get_by_role("button", name="Pay $45.00").click()
    expect(page.get_by_role("heading", name="Order #1001")).to_be_visible()
    order_url = page.url
    expect(page.get_by_role("status")).to_contain_text("Confirmed")
    assert axe_problems(page) == []
    assert levels(app, shop, tee) == (3, 0)
    page.goto(f"{base}/cart")
    expect(page.get_by_text("Your cart is empty.")).to_be_visible()

    # The merchant fulfils it with a tracking number (which asks for the capture).
    merchant = browser.new_context()
    try:
        desk = merchant.new_page()
        desk.goto(f"http://localhost:{live_server}/login")
        desk.get_by_label("Email").fill(owner.email)
        desk.get_by_label("Password").fill(PASSWORD)
        desk.get_by_role("button", name="Log in").click()
        desk.wait_for_url(f"**/dashboard/{shop.store.handle}/")
        desk.get_by_role("link", name="Orders", exact=True).click()
        desk.get_by_role("link", name="#1001").click()
        desk.locator("#fulfil-carrier").fill("UPS")
        desk.locator("#fulfil-number").fill("1Z999AA10123456784")
        desk.locator("#fulfil-url").fill("https://www.ups.com/track?tracknum=1Z999AA10123456784")
        desk.get_by_role("button", name="Fulfil", exact=True).click()
        expect(desk.get_by_text("Fulfilled. The capture of the payment follows.")).to_be_visible()
    finally:
        merchant.close()

    page.goto(order_url)
    expect(page.get_by_role("status")).to_contain_text("Shipped")
    expect(page.get_by_role("link", name="Track 1Z999AA10123456784")).to_be_visible()

    # The outbox's mails, sent as a worker sends them, to a real SMTP server on loopback.
    with smtp_server() as (server, port):
        monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{port}")
        with as_store(app, shop.store):
            run_effects("notifications")
    to_shopper = [message for message in server.messages if b"To: ada@example.com" in message]
    subjects = sorted(message.split(b"Subject: ")[1].split(b"\r\n")[0].decode() for message in to_shopper)
    assert len(subjects) == 2, subjects
    assert any("confirmed" in subject for subject in subjects) and any("on its way" in subject for subject in subjects)
