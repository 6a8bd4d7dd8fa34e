"""A merchant customizes a theme in the browser: changes the accent colour
and the hero heading, watches the preview follow, publishes, and the shop on
its own host shows the new heading."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD, as_store, unique_handle

pytestmark = pytest.mark.e2e


@pytest.fixture
def merchant_store(app):
    from app.catalog import products as catalog
    from app.extensions import db
    from app.platform.accounts import create_account
    from tenants.provisioning import create_store, placement_of

    with app.app_context():
        account = create_account(email=f"theme-{uuid.uuid4().hex[:8]}@example.com", name="Tess Theme",
                                 password=PASSWORD)
        email = account.email
        store = placement_of(create_store(handle=unique_handle("th"), name="Tess Lamps", currency="USD",
                                          owner=account, tier="pooled", db_key="main"))
        db.session.remove()
    with as_store(app, store):
        catalog.create_product({"title": "Brass Lamp", "price": "80.00", "status": "active"}, actor=email)
    return email, store


def accent_of(frame_or_page) -> str:
    return frame_or_page.locator("body").evaluate(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--color-accent').trim()")


def test_customize_preview_publish_and_see_it_on_the_shop(app, live_server, page, merchant_store):
    email, store = merchant_store
    base = f"http://localhost:{live_server}"
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/dashboard/{store.handle}/")

    page.get_by_role("link", name="Online store").click()
    expect(page.get_by_role("heading", name="Online store")).to_be_visible()
    page.get_by_role("link", name="Customize Atelier").click()
    expect(page.get_by_role("heading", name="Customize Atelier")).to_be_visible()

    preview = page.frame_locator("#theme-preview")
    expect(preview.get_by_text("Preview: shoppers do not see this until it is published.")).to_be_visible()
    expect(preview.get_by_role("heading", name="Welcome to our shop")).to_be_visible()

    page.get_by_label("Accent (buttons, links)").fill("#c2410c")
    expect(page.locator("#customizer-status")).to_contain_text("Draft saved at")
    hero = page.locator(".theme-section").filter(has_text="Hero banner")
    hero.get_by_text("Hero banner: Welcome to our shop").click()  # opens the section's settings
    hero.get_by_label("Heading", exact=True).fill("Lamps for long evenings")
    expect(preview.get_by_role("heading", name="Lamps for long evenings")).to_be_visible()
    frame = page.frame(name="theme-preview")
    assert accent_of(frame) == "#c2410c"
    expect(preview.get_by_text("Brass Lamp").first).to_be_visible()

    shop = page.context.new_page()
    shop_url = f"http://{store.handle}.localhost:{live_server}/"
    shop.goto(shop_url)
    expect(shop.get_by_role("heading", name="Lamps for long evenings")).to_have_count(0)  # still "coming soon"

    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_text("Published the Atelier theme: shoppers see it now.")).to_be_visible()
    # A shopper who had not seen the shop before (the "coming soon" page may be kept by a browser for a minute).
    shopper = page.context.browser.new_context()
    shop = shopper.new_page()
    shop.goto(shop_url)
    expect(shop.get_by_role("heading", name="Lamps for long evenings")).to_be_visible()
    assert accent_of(shop) == "#c2410c"
    expect(shop.get_by_text("Preview: shoppers")).to_have_count(0)
    shopper.close()
