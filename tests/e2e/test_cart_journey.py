"""A shopper in the browser: adds to cart from the product page (htmx: the
status line and the header's count update without a reload), changes the
quantity in the cart, and sees "sold out" when another shopper took the
last unit. Every theme; no Content-Security-Policy violation on the way."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.cart.helpers import levels, make_shop
from tests.e2e.a11y import axe_problems

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("theme", ["atelier", "broadsheet", "ledger"])
def test_add_change_and_lose_the_last_unit(app, make_store, live_server, browser, page, theme):
    shop = make_shop(app, make_store, {"Linen Tee": 5, "Last Lamp": 1}, theme=theme)
    base = f"http://{shop.store.handle}.localhost:{live_server}"
    tee, lamp = shop.variants["Linen Tee"], shop.variants["Last Lamp"]

    page.goto(f"{base}/products/{shop.handles['Linen Tee']}")
    page.get_by_label("Quantity").fill("2")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status").filter(has_text="Added to your cart")).to_be_visible()
    expect(page.locator("#cart-count .cart-count")).to_have_text("2")  # the header followed, no reload
    assert page.url == f"{base}/products/{shop.handles['Linen Tee']}"
    assert levels(app, shop, tee) == (5, 2)

    page.get_by_role("link", name="View cart (2)").click()
    expect(page.get_by_role("heading", name="Your cart")).to_be_visible()
    assert axe_problems(page) == []
    page.get_by_role("button", name="One more Linen Tee").click()
    expect(page.get_by_label("Quantity of Linen Tee")).to_have_value("3")
    expect(page.locator("#cart-count .cart-count")).to_have_text("3")
    assert levels(app, shop, tee) == (5, 3)
    page.get_by_label("Quantity of Linen Tee").fill("9")
    page.get_by_role("button", name="Update Linen Tee").click()
    expect(page.get_by_role("alert")).to_contain_text("Only 5 of Linen Tee")
    assert levels(app, shop, tee) == (5, 3)  # refused: nothing changed

    # another shopper takes the last lamp while this one looks at it
    page.goto(f"{base}/products/{shop.handles['Last Lamp']}")
    other = browser.new_context()
    try:
        rival = other.new_page()
        rival.goto(f"{base}/products/{shop.handles['Last Lamp']}")
        rival.get_by_role("button", name="Add to cart").click()
        expect(rival.get_by_role("status").filter(has_text="Added to your cart")).to_be_visible()
    finally:
        other.close()
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status").filter(has_text="Last Lamp is sold out")).to_be_visible()
    assert levels(app, shop, lamp) == (1, 1)
    page.goto(f"{base}/products/{shop.handles['Last Lamp']}")
    expect(page.get_by_role("button", name="Sold out")).to_be_disabled()
