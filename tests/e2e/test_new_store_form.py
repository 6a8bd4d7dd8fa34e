"""The new-store form fills the handle from the store's name as it is typed,
until the merchant types a handle of their own."""
import uuid

import pytest
from playwright.sync_api import expect

from tests.platform.helpers import sign_up

pytestmark = pytest.mark.e2e


def test_the_handle_follows_the_name_until_the_merchant_edits_it(app, live_server, page):
    port = live_server
    tag = uuid.uuid4().hex[:6]
    sign_up(app, page, port, "Hana Handle", f"hana-{tag}@example.com")

    name, handle = page.get_by_label("Store name"), page.get_by_label("Handle")
    name.press_sequentially(f"Café Nør {tag}")
    expect(handle).to_have_value(f"cafe-nr-{tag}")
    expect(page.locator("[data-handle-preview]")).to_have_text(f"cafe-nr-{tag}")
    expect(page.get_by_text(f".localhost:{port}. 3–40 lowercase")).to_be_visible()  # the address, port and all

    handle.fill(f"my-cafe-{tag}")
    name.fill(f"Café Nør {tag} & Bakery")
    expect(handle).to_have_value(f"my-cafe-{tag}")  # the merchant's own handle stays
    expect(page.locator("[data-handle-preview]")).to_have_text(f"my-cafe-{tag}")

    handle.fill("")  # cleared: it follows the name again
    name.fill(f"Café Nør {tag} & Bakery!")
    expect(handle).to_have_value(f"cafe-nr-{tag}-bakery")

    page.get_by_role("button", name="Create store").click()
    expect(page.get_by_role("heading", name=f"Café Nør {tag} & Bakery!")).to_be_visible()
    assert page.url == f"http://localhost:{port}/dashboard/cafe-nr-{tag}-bakery/"
    expect(page.get_by_text(f"live at cafe-nr-{tag}-bakery.localhost:{port}")).to_be_visible()
    expect(page.get_by_text("Main location")).to_be_visible()
