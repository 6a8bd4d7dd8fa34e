"""A merchant builds a product in the browser: options and variants, an
image, stock at two locations, then finds it in the list by searching; and
edits a product of more variants than one editor page, page by page."""
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.catalog.helpers import png_bytes
from tests.catalog.test_csv import web  # noqa: F401  (the fixture: an image host on 127.0.0.1)
from tests.catalog.test_import_images import refusing_url
from tests.conftest import flask_cli
from tests.platform.helpers import sign_up

pytestmark = pytest.mark.e2e


def _sign_up_with_store(app, page, port: int) -> str:
    handle = f"cat-{uuid.uuid4().hex[:8]}"
    sign_up(app, page, port, "Cara Catalog", f"{handle}@example.com")
    page.get_by_label("Store name").fill("Cara's Outdoor")
    page.get_by_label("Handle").fill(handle)
    page.get_by_role("button", name="Create store").click()
    expect(page.get_by_role("heading", name="Cara's Outdoor")).to_be_visible()
    return handle


def test_build_a_product_with_variants_image_and_stock_then_find_it(app, live_server, page, tmp_path):
    port = live_server
    _sign_up_with_store(app, page, port)

    page.get_by_role("link", name="Locations").click()
    for name in ("North warehouse", "City shop"):
        page.get_by_role("textbox", name="Name").last.fill(name)
        page.get_by_role("button", name="Add location").click()
        expect(page.get_by_text(f"Added {name}.")).to_be_visible()

    page.get_by_role("link", name="Products", exact=True).click()
    page.get_by_role("link", name="Add product").click()
    page.get_by_label("Title", exact=True).fill("Glacier Parka")
    page.get_by_label("Price (USD)").fill("249.00")
    page.get_by_label("SKU", exact=True).fill("PARKA-GL")
    page.get_by_label("Option 1 name").fill("Size")
    page.locator("input[name=option_values_1]").fill("M, L")
    page.get_by_label("Option 2 name").fill("Color")
    page.locator("input[name=option_values_2]").fill("Ice, Night")
    page.get_by_role("button", name="Save product").click()

    expect(page.get_by_role("heading", name="Glacier Parka")).to_be_visible()
    variants = page.locator("#variants .variant-row:not(.head)")
    expect(variants).to_have_count(4)
    for title in ("M / Ice", "M / Night", "L / Ice", "L / Night"):
        expect(page.locator("#variants").get_by_text(title, exact=True)).to_be_visible()

    picture = tmp_path / "parka.png"
    picture.write_bytes(png_bytes(64, 64))
    page.locator("#images input[type=file]").set_input_files(str(picture))
    expect(page.locator("#images img.preview")).to_be_visible()  # preview before upload
    page.locator("#images").get_by_label("Alt text").fill("Parka front")
    page.locator("#images").get_by_role("button", name="Upload").click()
    expect(page.locator("#images").get_by_text("Image added.")).to_be_visible()
    expect(page.locator("#images .gallery img")).to_have_count(1)

    stock = page.locator("#stock")
    for location, quantity in (("North warehouse", "7"), ("City shop", "3")):
        stock.locator("select[name=variant_id]").select_option(label="M / Ice")
        stock.locator("select[name=location_id]").select_option(label=location)
        stock.get_by_role("textbox", name="Adjust by").fill(quantity)
        stock.get_by_role("button", name="Update stock").click()
        expect(page.locator("#stock").get_by_text("Stock updated.")).to_be_visible()
    expect(page.locator("#stock").get_by_text("M / Ice at City shop: +3 → 3")).to_be_visible()

    page.get_by_role("link", name="Products", exact=True).click()
    page.get_by_role("searchbox", name="Search products").fill("glacier")
    results = page.locator("#product-results")
    expect(results.get_by_role("link", name="Glacier Parka")).to_be_visible()
    expect(results.get_by_text("10 available")).to_be_visible()
    page.get_by_role("searchbox", name="Search products").fill("nothing-matches-this")
    expect(results.get_by_role("link", name="Glacier Parka")).to_have_count(0)
    page.get_by_role("searchbox", name="Search products").fill("PARKA-GL")
    expect(results.get_by_role("link", name="Glacier Parka")).to_be_visible()


def test_a_product_with_more_variants_than_a_page_is_edited_page_by_page(app, live_server, page):
    _sign_up_with_store(app, page, live_server)
    page.get_by_role("link", name="Products", exact=True).click()
    page.get_by_role("link", name="Add product").click()
    page.get_by_label("Title", exact=True).fill("Rainbow Socks")
    page.get_by_label("Price (USD)").fill("9.00")
    page.get_by_label("Option 1 name").fill("Size")
    page.locator("input[name=option_values_1]").fill("XS, S, M, L, XL, XXL")
    page.get_by_label("Option 2 name").fill("Color")
    page.locator("input[name=option_values_2]").fill(", ".join(f"Shade {n}" for n in range(10)))
    page.get_by_role("button", name="Save product").click()

    rows = page.locator("#variants .variant-row:not(.head)")
    expect(rows).to_have_count(50)
    pager = page.get_by_role("navigation", name="Variant pages")
    expect(pager).to_contain_text("Variants 1–50 of 60 · page 1 of 2")
    pager.get_by_role("link", name="Next →").click()
    expect(pager).to_contain_text("Variants 51–60 of 60 · page 2 of 2")
    expect(rows).to_have_count(10)
    expect(page).to_have_url(re.compile(r"\?page=2$"))  # pushed, so a reload stays here

    page.get_by_label("XXL / Shade 9 price", exact=True).fill("11.50")
    page.locator("#variants").get_by_role("row").filter(has_text="XXL / Shade 9").get_by_role(
        "button", name="Save").click()
    expect(page.locator("#variants").get_by_text("Variant saved.")).to_be_visible()
    expect(pager).to_contain_text("page 2 of 2")
    expect(page.get_by_label("XXL / Shade 9 price", exact=True)).to_have_value("11.50")

    page.reload()
    expect(page.get_by_role("navigation", name="Variant pages")).to_contain_text("page 2 of 2")
    expect(page.locator("#variants").get_by_text("$11.50")).to_be_visible()
    page.get_by_role("navigation", name="Variant pages").get_by_role("link", name="← Previous").click()
    expect(page.get_by_label("XS / Shade 0 price", exact=True)).to_be_visible()


def test_an_import_started_in_the_browser_shows_its_own_whole_page_then_the_summary(app, live_server, page, tmp_path,
                                                                                 service_env, web):
    _sign_up_with_store(app, page, live_server)
    web.files["/lamp.png"] = png_bytes(40, 30)
    data = ("Handle,Title,Variant Price,Image Src\n"
            f"lamp,Desk Lamp,30.00,{web.url}/lamp.png\n"
            f"chair,Chair,45.00,{refusing_url()}/chair.png\n"
            "broken,Broken,not a price,\n")
    upload = tmp_path / "journey.csv"
    upload.write_text(data)

    page.get_by_role("link", name="Products", exact=True).click()
    page.get_by_role("link", name="Import / export").click()
    page.locator("input[type=file][name=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Start import").click()

    # The job's own page, whole: heading, sidebar, links and its title, not a fragment in the old page.
    expect(page.get_by_role("heading", name="Import: journey.csv")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Import journey\.csv · "))
    expect(page.locator("aside.sidebar").get_by_role("link", name="Products", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="All imports")).to_be_visible()

    flask_cli({**service_env, "IMPORT_ALLOW_PRIVATE_URLS": "1"}, "worker", "--burst", "--queue", "imports")
    progress = page.locator("#import-progress")
    expect(progress.get_by_text("Done", exact=True)).to_be_visible()  # the poll brought the end
    summary = progress.get_by_label("Import summary")
    expect(summary).to_contain_text("Created2")
    expect(summary).to_contain_text("Refused1")
    expect(summary).to_contain_text("Images not fetched1 of 2")
    expect(progress.get_by_role("heading", name="Refused — not imported")).to_be_visible()
    expect(progress.get_by_role("heading", name="Imported with warnings")).to_be_visible()
    expect(page).to_have_title(re.compile(r"^Import journey\.csv · "))
