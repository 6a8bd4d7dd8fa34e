"""A merchant signs up, creates a store, renames it and opens its storefront."""
import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_signup_create_store_rename_and_open_storefront(live_server, page):
    port = live_server
    handle = f"e2e-{uuid.uuid4().hex[:8]}"
    email = f"{handle}@example.com"

    page.goto(f"http://localhost:{port}/")
    page.get_by_role("link", name="Create your store").click()
    page.get_by_label("Your name").fill("Erin Endtoend")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("a-long-passphrase-2026")
    page.get_by_role("button", name="Create account").click()

    expect(page.get_by_role("heading", name="Create a store")).to_be_visible()
    page.get_by_label("Store name").fill("Erin's Emporium")
    page.get_by_label("Handle").fill(handle)
    page.get_by_label("Currency").select_option("GBP")
    page.get_by_role("button", name="Create store").click()

    expect(page.get_by_role("heading", name="Erin's Emporium")).to_be_visible()
    expect(page.get_by_text("Created the store “Erin's Emporium”")).to_be_visible()

    page.get_by_role("link", name="Settings").click()  # htmx-boosted navigation
    expect(page.get_by_role("heading", name="Store settings")).to_be_visible()
    page.get_by_label("Store name").fill("Erin's Curiosities")
    page.get_by_label("Coming-soon message").fill("Oddities and wonders, opening in spring.")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()

    page.get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", name="Erin's Curiosities")).to_be_visible()
    with page.context.expect_page() as storefront_tab:
        page.get_by_role("link", name=f"{handle}.localhost").click()
    storefront = storefront_tab.value
    expect(storefront.get_by_role("heading", name="Erin's Curiosities")).to_be_visible()
    expect(storefront.get_by_text("Oddities and wonders, opening in spring.")).to_be_visible()
    assert storefront.url == f"http://{handle}.localhost:{port}/"


def test_a_bad_handle_is_explained_in_the_browser(live_server, page):
    port = live_server
    page.goto(f"http://localhost:{port}/signup")
    page.get_by_label("Your name").fill("Bad Handle")
    page.get_by_label("Email").fill(f"bad-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Password").fill("a-long-passphrase-2026")
    page.get_by_role("button", name="Create account").click()
    page.get_by_label("Store name").fill("Nope")
    page.get_by_label("Handle").fill("admin")
    page.get_by_role("button", name="Create store").click()
    expect(page.get_by_text("“admin” is reserved")).to_be_visible()
