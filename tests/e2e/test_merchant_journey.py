"""A merchant signs up (confirming the address from the mail), creates a
store, renames it and opens its storefront; a newcomer joins it from an
invitation."""
import uuid

import pytest
from playwright.sync_api import expect

from tests.platform.helpers import PASSPHRASE, last_mail, link_in, sign_up

pytestmark = pytest.mark.e2e


def test_signup_create_store_rename_and_open_storefront(app, live_server, page):
    port = live_server
    handle = f"e2e-{uuid.uuid4().hex[:8]}"
    email = f"{handle}@example.com"

    page.goto(f"http://localhost:{port}/")
    page.get_by_role("link", name="Create your store").click()
    expect(page.get_by_role("heading", name="Create your Vitrine account")).to_be_visible()
    sign_up(app, page, port, "Erin Endtoend", email)

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


def test_a_bad_handle_is_explained_in_the_browser(app, live_server, page):
    port = live_server
    sign_up(app, page, port, "Bad Handle", f"bad-{uuid.uuid4().hex[:8]}@example.com")
    page.get_by_label("Store name").fill("Nope")
    page.get_by_label("Handle").fill("admin")
    page.get_by_role("button", name="Create store").click()
    expect(page.get_by_text("“admin” is reserved")).to_be_visible()


def test_a_newcomer_joins_a_store_from_an_invitation(app, live_server, page, browser):
    port = live_server
    handle = f"inv-{uuid.uuid4().hex[:8]}"
    sign_up(app, page, port, "Olive Owner", f"{handle}@example.com")
    page.get_by_label("Store name").fill("Olive's Goods")
    page.get_by_label("Handle").fill(handle)
    page.get_by_role("button", name="Create store").click()
    page.get_by_role("link", name="Staff").click()
    invitee = f"{handle}-helper@example.com"
    page.get_by_label("Email").fill(invitee)
    page.get_by_label("Role").select_option("admin")
    page.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"Invitation sent to {invitee}.")).to_be_visible()
    expect(page.get_by_role("cell", name=invitee)).to_be_visible()

    context = browser.new_context()  # the invitee's own browser
    try:
        helper = context.new_page()
        helper.goto(f"http://localhost:{port}{link_in(last_mail(app, invitee), '/invitations/')}")
        expect(helper.get_by_role("heading", name="Join Olive's Goods")).to_be_visible()
        helper.get_by_label("Your name").fill("Hal Helper")
        helper.get_by_label("Password").fill(PASSPHRASE)
        helper.get_by_role("button", name="Create account and join").click()
        expect(helper.get_by_text("Welcome to Olive's Goods!")).to_be_visible()
        expect(helper.get_by_role("link", name="Settings")).to_be_visible()  # an admin
    finally:
        context.close()
    page.reload()
    expect(page.get_by_role("cell", name="Hal Helper")).to_be_visible()
