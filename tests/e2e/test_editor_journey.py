"""The product editor in Chromium: the Track box sticks, edits are never lost
silently, leaving with unsaved edits asks, stock reasons follow the change,
and bulk delete asks before it sends."""
import pytest
from playwright.sync_api import expect

from tests.e2e.test_catalog_journey import _sign_up_with_store

pytestmark = pytest.mark.e2e


def _add_product(page, title: str, price: str = "20.00"):
    page.get_by_role("link", name="Products", exact=True).click()
    page.get_by_role("link", name="Add product").click()
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Price (USD)").fill(price)
    page.get_by_role("button", name="Save product").click()
    expect(page.get_by_role("heading", name=title)).to_be_visible()


def _row(page, title: str = "Default"):
    return page.locator("#variants").get_by_role("row").filter(has_text=title)


def test_track_inventory_stays_as_ticked_after_save_and_reload(app, live_server, page):
    _sign_up_with_store(app, page, live_server)
    _add_product(page, "Enamel Mug")
    track = page.get_by_label("Track Default inventory")
    expect(track).to_be_checked()
    for tick in (False, True):
        track.set_checked(tick)
        _row(page).get_by_role("button", name="Save").click()
        expect(page.locator("#variants").get_by_text("Variant saved.")).to_be_visible()
        page.reload()
        expect(track).to_be_checked(checked=tick)


def test_an_unsaved_price_is_flagged_not_lost_and_leaving_asks(app, live_server, page):
    _sign_up_with_store(app, page, live_server)
    _add_product(page, "Wool Scarf", "30.00")
    price = page.get_by_label("Default price", exact=True)
    price.fill("35.00")
    expect(_row(page).get_by_text("Unsaved changes — save or discard")).to_be_visible()

    page.get_by_label("Vendor").fill("Fjord Mills")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator("#details").get_by_role("alert")).to_contain_text("Save or discard them first")
    expect(page.locator("#variants form.is-flagged")).to_have_count(1)
    expect(price).to_have_value("35.00")  # still there, not reloaded away

    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.close(run_before_unload=True)  # dismissed: the page stays
    expect(page.get_by_role("button", name="Save details")).to_be_visible()
    assert dialogs == ["beforeunload"]

    _row(page).get_by_role("button", name="Save").click()
    expect(page.locator("#variants").get_by_text("Variant saved.")).to_be_visible()
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Product saved.")).to_be_visible()
    expect(page.get_by_label("Vendor")).to_have_value("Fjord Mills")
    expect(price).to_have_value("35.00")

    with page.expect_event("close"):  # saved: nothing to ask about
        page.close(run_before_unload=True)
    assert dialogs == ["beforeunload"]


def test_a_refused_details_save_still_counts_as_unsaved(app, live_server, page):
    _sign_up_with_store(app, page, live_server)
    _add_product(page, "Clay Pot")
    page.get_by_label("Title", exact=True).fill("")
    page.get_by_label("Vendor").fill("Kiln & Co")
    page.get_by_role("button", name="Save details").click()
    expect(page.locator("#details").get_by_role("alert")).to_contain_text("Give the product a title")
    expect(page.get_by_label("Vendor")).to_have_value("Kiln & Co")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    page.close(run_before_unload=True)
    expect(page.get_by_role("button", name="Save details")).to_be_visible()
    assert dialogs == ["beforeunload"]


def test_the_stock_reason_follows_the_kind_of_change(app, live_server, page):
    _sign_up_with_store(app, page, live_server)
    page.get_by_role("link", name="Locations").click()
    page.get_by_role("textbox", name="Name").last.fill("Depot")
    page.get_by_role("button", name="Add location").click()
    expect(page.get_by_text("Added Depot.")).to_be_visible()
    _add_product(page, "Tin Lantern")
    stock = page.locator("#stock")
    reason = stock.locator("select[name=reason]")
    expect(reason).to_have_value("")
    stock.get_by_role("textbox", name="Adjust by").fill("+4")
    expect(reason).to_have_value("received")
    stock.locator("select[name=mode]").select_option("set")
    expect(reason).to_have_value("correction")
    stock.get_by_role("textbox", name="Set on hand to").fill("9")
    stock.get_by_role("button", name="Update stock").click()
    expect(stock.get_by_text("Stock updated.")).to_be_visible()
    expect(page.locator("#stock .timeline")).to_contain_text("Correction (count)")


def test_bulk_delete_asks_before_sending(app, live_server, page):
    _sign_up_with_store(app, page, live_server)
    for title in ("Oak Stool", "Ash Bench"):
        _add_product(page, title)
    page.get_by_role("link", name="Products", exact=True).click()
    results = page.locator("#product-results")
    expect(results.get_by_role("combobox", name="Bulk action")).to_have_value("")
    page.get_by_label("Select all").check()
    results.get_by_role("combobox", name="Bulk action").select_option("delete")

    questions = []
    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
    results.get_by_role("button", name="Apply to selected").click()
    expect(results.get_by_role("link", name="Oak Stool")).to_be_visible()
    assert len(questions) == 1 and questions[0].startswith("Delete 2 products permanently")

    page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    results.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("2 products deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="Oak Stool")).to_have_count(0)
    expect(page.get_by_role("link", name="Ash Bench")).to_have_count(0)
    assert len(questions) == 2


def test_a_refused_variant_row_keeps_what_was_typed_and_discard_shows_what_is_stored(app, live_server, page):
    _sign_up_with_store(app, page, live_server)
    _add_product(page, "Linen Napkin", "12.00")
    price = page.get_by_label("Default price", exact=True)
    price.fill("twelve")
    _row(page).get_by_role("button", name="Save").click()
    expect(page.locator("#variants [data-error-summary]")).to_be_visible()
    expect(price).to_have_value("twelve")  # what was typed, beside the message
    expect(_row(page).get_by_text("Unsaved changes — save or discard")).to_be_visible()
    _row(page).get_by_role("button", name="Discard").click()
    expect(price).to_have_value("12.00")  # the stored price again, nothing asked
    expect(page.locator("#variants [data-error-summary]")).to_have_count(0)
    with page.expect_event("close"):  # nothing unsaved is left
        page.close(run_before_unload=True)
