"""A shopper in the browser checks out: address, shipping, then pays with
4242 4242 4242 4242 (the card goes from the page to the Stripe emulator;
only its PaymentMethod id reaches the shop) and lands on the order page.
A declined card first says why and keeps the cart."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from werkzeug.datastructures import MultiDict

from app.checkout import shipping
from tests.cart.helpers import levels, make_shop
from tests.conftest import as_store
from tests.e2e.a11y import axe_problems

pytestmark = pytest.mark.e2e


def test_checkout_and_pay_by_card(app, make_store, live_server, page):
    shop = make_shop(app, make_store, {"Linen Tee": 5})
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
    expect(page.get_by_role("status")).to_contain_text("Confirmed")
    assert axe_problems(page) == []
    assert levels(app, shop, tee) == (3, 0)
    page.goto(f"{base}/cart")
    expect(page.get_by_text("Your cart is empty.")).to_be_visible()
