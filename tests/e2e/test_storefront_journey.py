"""A shopper's journey through each theme in Chromium: home -> collection ->
filter -> product -> pick a variant -> search with a typo -> find the product.
(Axe and phone widths: test_themes_phone.py.)"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.theming.registry import themes

ACTOR = "journey@example.com"


@pytest.fixture(scope="module")
def shop(app, live_server):
    """A store with a few products (a jacket with sizes, one size sold out), a collection, stock and pages."""
    from app.catalog import collections
    from app.catalog import products as catalog
    from app.catalog.product_images import add_image
    from app.catalog.products import OptionSpec
    from app.inventory import service as inventory
    from app.pages.service import add_starter_pages
    from app.search import service as search
    from tenants.provisioning import create_store, placement_of
    from app.extensions import db
    from tests.catalog.helpers import png_bytes
    from tests.conftest import as_store, unique_handle

    with app.app_context():
        store = placement_of(create_store(handle=unique_handle("shop"), name="Summit Supply", currency="USD",
                                          owner=None, tier="pooled", db_key="main"))
        db.session.remove()
    with as_store(app, store):
        location = (inventory.default_location() or inventory.create_location("Main location")).id
        jacket = catalog.create_product(
            {"title": "Ridge Shell Jacket", "price": "180.00", "vendor": "Northface Labs", "product_type": "Jackets",
             "status": "active", "description_html": "<p>A waterproof shell for long ridges.</p>"},
            options=[OptionSpec("Size", ["S", "M", "L"])], actor=ACTOR)
        add_image(jacket, png_bytes(64, 64), alt="Ridge Shell Jacket, front")
        for variant in jacket.variants[:2]:
            inventory.adjust(variant.id, location, "5", reason="received", actor=ACTOR)
        fleece = catalog.create_product({"title": "Cloud Fleece", "price": "70.00", "vendor": "Woolly Goat",
                                         "product_type": "Fleeces", "status": "active"}, actor=ACTOR)
        inventory.adjust(fleece.variants[0].id, location, "3", reason="received", actor=ACTOR)
        outerwear = collections.create_collection({"title": "Outerwear"}, kind="manual")
        collections.set_products(outerwear, [jacket.id, fleece.id])
        add_starter_pages()
        search.rebuild()
    return store


def _publish(app, store, name):
    from app.theming import service as theming
    from app.theming.registry import get_theme
    from tests.conftest import as_store

    with as_store(app, store):
        theming.publish(get_theme(name), actor=ACTOR)


@pytest.mark.parametrize("theme", [theme.name for theme in themes()])
def test_a_shopper_browses_filters_picks_a_variant_and_finds_it_again_by_a_typo(app, live_server, shop, page,
                                                                                theme):
    _publish(app, shop, theme)
    base = f"http://{shop.handle}.localhost:{live_server}"
    page.goto(base + "/")
    expect(page.locator("body")).to_have_class(re.compile(f"theme-{theme}"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Outerwear").click()
    expect(page.get_by_role("heading", level=1, name="Outerwear")).to_be_visible()
    expect(page.get_by_text("2 products")).to_be_visible()
    page.get_by_label(re.compile(r"Woolly Goat")).check()  # htmx redraws the list
    expect(page.get_by_text("1 product", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"vendor=Woolly"))
    page.get_by_role("link", name=re.compile("Vendor: Woolly Goat")).click()  # remove the filter again
    expect(page.get_by_text("2 products")).to_be_visible()
    page.get_by_role("link", name=re.compile("Ridge Shell Jacket")).first.click()
    expect(page.get_by_role("heading", level=1, name="Ridge Shell Jacket")).to_be_visible()
    expect(page.locator(".availability")).to_have_text("In stock")
    page.locator(".variant-picker label", has_text="L").click()  # size L has no stock
    expect(page.locator(".availability")).to_have_text("Sold out")
    expect(page).to_have_url(re.compile(r"option1=L"))
    page.locator(".variant-picker label", has_text="M").click()
    expect(page.locator(".availability")).to_have_text("In stock")
    search = page.get_by_role("searchbox").first  # (each theme words its label its own way)
    search.fill("jaket")
    expect(page.locator("#search-suggestions")).to_contain_text("Ridge Shell Jacket")
    search.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("jaket")
    page.get_by_role("link", name=re.compile("Ridge Shell Jacket")).first.click()
    expect(page.get_by_role("heading", level=1, name="Ridge Shell Jacket")).to_be_visible()
