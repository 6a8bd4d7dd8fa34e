"""The shipped themes: each manifest is valid, each default palette is
readable, each preview is served, and the themes really look different
(their own CSS and, where they override templates, their own markup).
(In the browser: tests/e2e/test_themes_phone.py.)"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from app.catalog import collections
from app.catalog import products as catalog
from app.catalog.product_images import add_image
from app.catalog.products import OptionSpec
from app.inventory import service as inventory
from app.pages.service import add_starter_pages
from app.theming import service as theming
from app.theming.registry import get_theme, themes
from app.theming.render import asset_url
from app.theming.settings import clean_sections, clean_value
from tests.catalog.helpers import png_bytes
from tests.conftest import Client, as_store, store_host

ACTOR = "owner@example.com"
THEMES = [theme.name for theme in themes()]


# -- manifests --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", THEMES)
def test_each_theme_json_is_valid(name):
    theme = get_theme(name)  # raises ThemeError on an unknown setting type or homepage section
    assert theme.title and theme.description and re.fullmatch(r"\d+\.\d+\.\d+", theme.version)
    for setting in theme.settings:
        assert setting.get("label"), f"{name}: {setting['id']} has no label"
        value = setting.get("default")
        posted = ("1" if value else "") if isinstance(value, bool) else value
        assert clean_value(setting, posted) == value, f"{name}: the default of {setting['id']} is not a valid value"
    homepage = clean_sections(theme, theme.homepage)
    assert homepage and all(section["type"] in theme.sections for section in homepage)
    for section, given in zip(homepage, theme.homepage, strict=True):  # the manifest's values are kept as written
        assert set(given["settings"]) <= set(section["settings"]), f"{name}: unknown {section['type']} setting"
        assert all(section["settings"][key] == value for key, value in given["settings"].items())


@pytest.mark.parametrize("name", THEMES)
def test_each_default_palette_is_readable(name):
    defaults = get_theme(name).default_settings()
    background, text, accent, sale = (defaults[k] for k in ("color_background", "color_text", "color_accent",
                                                             "color_sale"))
    assert contrast(text, background) >= 4.5
    assert contrast(accent, background) >= 4.5  # links, and button labels (the background on the accent)
    assert contrast(sale, background) >= 4.5
    assert contrast("#ffffff", sale) >= 4.5  # the sale badge
    assert contrast(mix(text, background, 0.7), background) >= 4.5  # muted text: vendors, compare-at prices


def contrast(one: str, other: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    lighter, darker = sorted((luminance(one), luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def mix(one: str, other: str, share: float) -> str:
    """CSS color-mix(in srgb, one share, other)."""
    return "#" + "".join(f"{round(int(one[i:i + 2], 16) * share + int(other[i:i + 2], 16) * (1 - share)):02x}"
                         for i in (1, 3, 5))


@pytest.mark.parametrize("name", THEMES)
def test_each_preview_is_an_svg_served_from_the_theme(app, client, name):
    theme = get_theme(name)
    assert theme.preview and theme.asset_path(theme.preview).parent.parent.name == name  # its own, not the base's
    with app.app_context():
        address = asset_url(theme, theme.preview)
    response = client.get(address)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    root = ET.fromstring(response.get_data())
    response.close()
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("role") == "img" and root.get("aria-label")


# -- the themes look different ----------------------------------------------------------------------------------------

@pytest.fixture
def shop(app, make_store):
    return make_shop(app, make_store)


def make_shop(app, make_store):
    """A store with a photographed product of three sizes (S in stock), a mug, a collection and pages."""
    store = make_store(name="Look Shop")
    with as_store(app, store):
        location = inventory.default_location() or inventory.create_location("Main location")
        tee = catalog.create_product({"title": "Linen Tee", "price": "25.00", "vendor": "Loom", "sku": "TEE",
                                      "product_type": "Shirts", "status": "active",
                                      "description_html": "<p>Soft linen.</p>"},
                                     options=[OptionSpec("Size", ["S", "M", "L"])], actor=ACTOR)
        inventory.adjust(tee.variants[0].id, location.id, "4", reason="received", actor=ACTOR)
        for n, colour in enumerate([(200, 80, 40), (40, 80, 200), (40, 160, 80)]):
            add_image(tee, png_bytes(800, 1000, colour), alt=f"Linen tee, view {n + 1}")
        mug = catalog.create_product({"title": "Stoneware Mug with a rather long name for a small card",
                                      "price": "18.00", "vendor": "Kiln & Co", "status": "active"}, actor=ACTOR)
        summer = collections.create_collection({"title": "Summer"}, kind="manual")
        collections.set_products(summer, [tee.id, mug.id])
        add_starter_pages()
        handles = {"tee": tee.handle, "mug": mug.handle, "collection": summer.handle}
    return store, handles


def publish(app, store, name: str) -> None:
    with as_store(app, store):
        theming.publish(get_theme(name), actor=ACTOR)


def pages_of(app, store, handles, name: str) -> dict[str, str]:
    publish(app, store, name)
    browser = Client(app.test_client(), host=store_host(app, store))
    paths = {"home": "/", "product": f"/products/{handles['tee']}",
             "collection": f"/collections/{handles['collection']}"}
    found = {}
    for key, path in paths.items():
        response = browser.get(path)
        assert response.status_code == 200, (name, path)
        found[key] = response.get_data(as_text=True)
    css = re.search(rf'href="(/assets/{name}/[0-9a-f]{{12}}/theme\.css)"', found["home"]).group(1)
    asset = browser.get(css)
    found["css_url"], found["css"] = css, asset.get_data(as_text=True)
    asset.close()
    return found


def test_the_three_themes_have_their_own_css_and_markup(app, make_store):
    # A store each: a theme published after another keeps the settings they share (colours, fonts, layout).
    atelier, broadsheet, ledger = (pages_of(app, *make_shop(app, make_store), name)
                                   for name in ("atelier", "broadsheet", "ledger"))
    assert len({atelier["css"], broadsheet["css"], ledger["css"]}) == 3
    assert "Broadsheet" in broadsheet["css"] and "Ledger" in ledger["css"]
    assert "--per-row: 3;" in atelier["home"] and "--per-row: 3;" in broadsheet["home"]
    assert "--per-row: 5;" in ledger["home"]

    # Broadsheet: a masthead, every photograph large and stacked, pull quotes on the home page.
    assert 'class="site-header masthead"' in broadsheet["home"] and "masthead" not in atelier["home"]
    assert "gallery-stacked" in broadsheet["product"]
    large = re.findall(r'<img class="product-image" src="([^"]+)"', broadsheet["product"])
    assert len(set(large)) == 3 and 'class="thumbnails"' not in broadsheet["product"]
    assert len(re.findall(r'<img class="product-image"', atelier["product"])) == 1  # one large, then thumbnails
    assert "pull-quotes" in broadsheet["home"] and "lead-quote" in broadsheet["home"]
    assert "hero-large" in broadsheet["home"] and "hero-small" in atelier["home"]
    assert broadsheet["home"].index("section-image_with_text") < broadsheet["home"].index("section-testimonials")

    # Ledger: compact cards with vendor and item code, a filter sidebar, a variant table, the search up front.
    assert "ledger-card" in ledger["collection"] and "ledger-card" not in atelier["collection"]
    assert "Loom" in ledger["collection"] and "LINEN-TEE" in ledger["collection"] and "Shirts" in ledger["collection"]
    assert "ledger-collection" in ledger["collection"] and "ledger-collection" not in atelier["collection"]
    assert 'class="variant-table"' in ledger["product"] and "variant-table" not in atelier["product"]
    assert 'placeholder="Search by name, vendor or item code"' in ledger["home"]


def test_ledgers_filter_column_filters(app, shop):
    from tests.conftest import run_effects

    store, handles = shop
    publish(app, store, "ledger")
    with as_store(app, store):
        run_effects("search")
    browser = Client(app.test_client(), host=store_host(app, store))
    everything = browser.get(f"/collections/{handles['collection']}").get_data(as_text=True)
    in_stock = browser.get(f"/collections/{handles['collection']}?in_stock=1&sort=title").get_data(as_text=True)
    assert "Stoneware Mug" in everything and "Stoneware Mug" not in in_stock and "Linen Tee" in in_stock
    column = in_stock.split('class="facets"', 1)[1].split('id="listing-results"', 1)[0]
    assert re.search(r'name="in_stock" value="1"\s+checked', column)
    assert '<option value="title" selected>' in in_stock
    assert "1 product" in in_stock


# -- in the browser: phones and accessibility -------------------------------------------------------------------------

PHONE = {"width": 390, "height": 844}
WIDEST = """() => [...document.querySelectorAll("body *")]
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1
               || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === "visible"))
  .slice(-3).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().width) + "/"
                      + e.scrollWidth)"""


def wide(page) -> list[str]:
    """The innermost elements that stick out on the right: what a failure message names."""
    return page.evaluate(WIDEST)
