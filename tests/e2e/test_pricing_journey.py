"""A merchant sets up what checkout will charge, in the browser: a shipping zone (a refused country
first) and its rate, a tax rate with prices that include tax, and a discount code."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.a11y import axe_problems

pytestmark = pytest.mark.e2e


def test_a_merchant_sets_up_shipping_taxes_and_a_discount(app, live_server, page, make_account, make_store):
    owner = make_account("Priya Pricing")
    store = make_store(owner=owner, name="Priced Goods", currency="EUR")
    base = f"http://localhost:{live_server}"
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/dashboard/{store.handle}/")

    page.get_by_role("link", name="Shipping", exact=True).click()
    expect(page.get_by_role("heading", name="Shipping")).to_be_visible()
    page.locator("#zone-name").fill("Europe")
    page.locator("#zone-places").fill("FR XX")
    page.get_by_role("button", name="Add the zone").click()
    expect(page.get_by_text("“XX” is neither a country code")).to_be_visible()
    assert axe_problems(page) == []
    page.locator("#zone-places").fill("FR, DE")
    page.get_by_role("button", name="Add the zone").click()
    expect(page.get_by_role("heading", name="Europe")).to_be_visible()
    page.locator("#rate-name").fill("Colissimo")
    page.locator("#rate-price").fill("4.90")
    page.locator("#rate-free_above").fill("60")
    page.get_by_role("button", name="Add the rate").click()
    expect(page.get_by_role("link", name="Colissimo")).to_be_visible()
    assert axe_problems(page) == []

    page.get_by_role("link", name="Taxes").click()
    page.locator("#tax-place").fill("FR")
    page.locator("#tax-name").fill("TVA")
    page.locator("#tax-rate").fill("20")
    page.get_by_role("button", name="Add the rate").click()
    expect(page.get_by_role("cell", name="20 %")).to_be_visible()
    page.get_by_label("My prices include tax").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved how prices and shipping are taxed.")).to_be_visible()
    expect(page.get_by_label("My prices include tax")).to_be_checked()
    assert axe_problems(page) == []

    page.get_by_role("link", name="Discounts").click()
    page.locator("#discount-code").fill("SPRING")
    page.locator("#discount-value").fill("15")
    page.get_by_role("button", name="Add the code").click()
    expect(page.get_by_role("link", name="SPRING")).to_be_visible()
    expect(page.get_by_text("15 % off")).to_be_visible()
    assert axe_problems(page) == []
