"""A shopper in the browser: creates an account, saves a product for later
(htmx swaps the button in place), finds it on the wishlist, adds an address,
logs out and back in. No Content-Security-Policy violation on the way."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.customers.helpers import SECRET, make_shop
from tests.e2e.a11y import axe_problems

pytestmark = pytest.mark.e2e


def test_register_save_for_later_address_and_log_in_again(app, make_store, live_server, page):
    shop = make_shop(app, make_store)
    base = f"http://{shop.store.handle}.localhost:{live_server}"
    address = f"journey-{uuid.uuid4().hex[:8]}@example.com"
    tee = shop.handles["Linen Tee"]

    page.goto(f"{base}/products/{tee}")
    page.get_by_role("link", name="Log in to save for later").click()
    page.get_by_role("link", name="Create an account").click()
    page.get_by_role("button", name="Create account").click()  # empty: every error shown
    expect(page.get_by_role("alert")).to_contain_text("3 problems")
    assert axe_problems(page) == []
    page.get_by_label("Your name").fill("Journey Shopper")
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(SECRET)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{base}/products/{tee}")  # back where they started

    save = page.get_by_role("button", name="Save for later")
    save.click()
    expect(page.get_by_role("button", name="Saved for later")).to_have_attribute("aria-pressed", "true")
    assert page.url == f"{base}/products/{tee}"  # swapped in place, no navigation
    page.get_by_role("link", name="See your wishlist").click()
    expect(page.get_by_role("heading", name="Linen Tee")).to_be_visible()
    assert axe_problems(page) == []

    page.get_by_role("link", name="Addresses").click()
    page.get_by_role("button", name="Save address").click()  # empty: errors by the fields
    expect(page.get_by_role("alert")).to_contain_text("3 problems")  # the country starts as the store's
    assert axe_problems(page) == []
    page.get_by_label("Full name").fill("Journey Shopper")
    page.get_by_label("Address", exact=True).fill("1 Market Street")
    page.get_by_label("City").fill("Leeds")
    page.get_by_label("Country").select_option("GB")
    page.get_by_role("button", name="Save address").click()
    expect(page.locator("address.customer-address")).to_contain_text("1 Market Street")
    assert axe_problems(page) == []
    expect(page.get_by_text("Default", exact=True)).to_be_visible()
    assert axe_problems(page) == []

    page.get_by_role("button", name="Log out").click()
    page.goto(f"{base}/account")
    assert axe_problems(page) == []  # the log-in page
    page.get_by_label("Email").fill(address)
    page.get_by_label("Password").fill(SECRET)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    expect(page.locator("address.customer-address")).to_contain_text("1 Market Street")
    assert axe_problems(page) == []
