"""The dashboard and the platform pages on a phone (390 × 844): nothing
scrolls sideways, the navigation folds behind a menu button that works by
mouse and keyboard (and stays reachable without JavaScript), controls are
thumb-sized, and the editor of a product of many variants reflows."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import DASHBOARD_PAGES, PUBLIC_PAGES, axe_problems

pytestmark = pytest.mark.e2e

WIDTH, HEIGHT = 390, 844
THUMB = 44  # px: the smallest height of a control a thumb has to hit
# Controls that take a tap: buttons and button-like links, fields, the menu's links.
CONTROLS = """() => [...document.querySelectorAll(
    'main button, main a.button, main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), '
    + 'main select, main textarea, .menu-button, .menu a, .menu button, .menu select')]
  .filter((el) => el.getClientRects().length > 0)
  .map((el) => ({html: el.outerHTML.slice(0, 140), height: el.getBoundingClientRect().height}))"""


def fits_sideways(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5
                        && !el.closest('.table-scroll, .sr-only, .skip-link, .variant-row.head, thead'))
        .slice(0, 5).map((el) => el.outerHTML.slice(0, 160))""")
    assert width <= WIDTH, f"the page is {width}px wide at {page.url}; too wide: {wide}"


def thumb_sized(page) -> None:
    small = [control for control in page.evaluate(CONTROLS) if control["height"] < THUMB - 0.5]
    assert not small, f"controls under {THUMB}px high at {page.url}: {small[:5]}"


@pytest.mark.parametrize("name", DASHBOARD_PAGES)
def test_a_dashboard_page_fits_a_phone_and_its_menu_opens_and_closes(seeded_store, open_page, name):
    page = open_page(seeded_store.state, width=WIDTH, height=HEIGHT)
    page.goto(seeded_store.base + seeded_store.pages[name])
    fits_sideways(page)

    platform = name in ("account", "new store")
    menu = page.get_by_role("navigation", name="Site" if platform else "Dashboard")
    button = page.get_by_role("button", name="Menu")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    expect(menu.get_by_role("link", name="Account" if platform else "Inventory")).to_be_in_viewport()
    fits_sideways(page)
    thumb_sized(page)
    problems = axe_problems(page)  # the phone layout, menu open, passes axe too
    assert not problems, "\n".join(problems)
    button.click()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_hidden()


@pytest.mark.parametrize("name", PUBLIC_PAGES)
def test_a_public_page_fits_a_phone(seeded_store, open_page, name):
    page = open_page(width=WIDTH, height=HEIGHT)
    page.goto(seeded_store.base + seeded_store.public_pages[name])
    fits_sideways(page)
    if name != "not found":  # the error page stands alone, without navigation
        page.get_by_role("button", name="Menu").click()
        expect(page.get_by_role("navigation", name="Site")).to_be_visible()
    thumb_sized(page)


def test_the_menu_works_from_the_keyboard(seeded_store, open_page):
    page = open_page(seeded_store.state, width=WIDTH, height=HEIGHT)
    page.goto(seeded_store.base + seeded_store.pages["home"])
    button = page.get_by_role("button", name="Menu")
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand
    page.keyboard.press("Tab")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    menu = page.get_by_role("navigation", name="Dashboard")
    expect(menu).to_be_visible()
    page.keyboard.press("Tab")  # into the menu: the store switcher comes first
    expect(page.get_by_role("combobox", name="Switch store")).to_be_focused()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()
    page.keyboard.press("Space")
    expect(menu).to_be_visible()
    menu.get_by_role("link", name="Products").press("Enter")
    expect(page.get_by_role("heading", name="Products", exact=True)).to_be_visible()
    expect(page.get_by_role("navigation", name="Dashboard")).to_be_hidden()  # a new page starts folded


def test_without_javascript_the_navigation_is_in_the_page(seeded_store, browser):
    context = browser.new_context(storage_state=seeded_store.state, viewport={"width": WIDTH, "height": HEIGHT},
                                  java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(seeded_store.base + seeded_store.pages["products"])
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()  # it would do nothing
        expect(page.get_by_role("navigation", name="Dashboard").get_by_role("link", name="Inventory")).to_be_visible()
        fits_sideways(page)
        page.goto(seeded_store.base + "/login")
        expect(page.get_by_role("navigation", name="Site").get_by_role("link", name="Dashboard")).to_be_visible()
    finally:
        context.close()


def test_the_editor_of_a_product_of_many_variants_reflows_and_saves_a_variant(seeded_store, open_page):
    page = open_page(seeded_store.state, width=WIDTH, height=HEIGHT)
    page.goto(seeded_store.base + seeded_store.pages["product with many variants"])
    rows = page.locator("#variants .variant-row:not(.head)")
    expect(rows).to_have_count(50)
    fits_sideways(page)
    row = page.locator("#variants").get_by_role("row").filter(has_text="M / Shade 3")
    title, price, save = (row.get_by_role("rowheader"), row.get_by_label("M / Shade 3 price", exact=True),
                          row.get_by_role("button", name="Save"))
    row.scroll_into_view_if_needed()
    title_box, price_box, save_box = title.bounding_box(), price.bounding_box(), save.bounding_box()
    assert price_box["y"] >= title_box["y"] + title_box["height"], "the fields stack under the variant's title"
    for box in (title_box, price_box, save_box):
        assert 0 <= box["x"] and box["x"] + box["width"] <= WIDTH, box
    assert price_box["height"] >= THUMB - 0.5 and save_box["height"] >= THUMB - 0.5
    label = price.evaluate("(input) => getComputedStyle(input.closest('[role=cell]'), '::before').content")
    assert label == '"Price"', label  # each field of the card says what it is

    price.fill("12.50")
    save.click()
    expect(page.locator("#variants").get_by_text("Variant saved.")).to_be_visible()
    expect(page.get_by_label("M / Shade 3 price", exact=True)).to_have_value("12.50")
    fits_sideways(page)
