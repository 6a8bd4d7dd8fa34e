"""The storefront renders through the published theme: every page of every
theme, for a store with products; "coming soon" until something is published."""
from __future__ import annotations

import pytest

from app.catalog import collections
from app.catalog import products as catalog
from app.catalog.products import OptionSpec
from app.effects import emit
from app.extensions import db
from app.inventory import service as inventory
from app.pages.service import add_starter_pages
from app.theming import service as theming
from app.theming.models import TemplateOverride
from app.theming.registry import get_theme, themes
from app.theming.render import override_environment
from tests.conftest import Client, as_store, sql_statements, store_host

ACTOR = "owner@example.com"


@pytest.fixture
def shop(app, make_store):
    """A store with a few active products (one with variants and stock), a collection and pages."""
    store = make_store()
    with as_store(app, store):
        location = inventory.default_location() or inventory.create_location("Main location")
        tee = catalog.create_product({"title": "Linen Tee", "price": "25.00", "vendor": "Loom", "status": "active",
                                      "description_html": "<p>Soft <b>linen</b>.</p>"},
                                     options=[OptionSpec("Size", ["S", "M", "L"])], actor=ACTOR)
        for variant in tee.variants[:2]:
            inventory.adjust(variant.id, location.id, "4", reason="received", actor=ACTOR)
        mug = catalog.create_product({"title": "Stoneware Mug", "price": "18.00", "status": "active"}, actor=ACTOR)
        catalog.create_product({"title": "Secret Draft", "price": "9.00", "status": "draft"}, actor=ACTOR)
        summer = collections.create_collection({"title": "Summer"}, kind="manual")
        collections.set_products(summer, [tee.id, mug.id])
        add_starter_pages()
        handles = {"tee": tee.handle, "mug": mug.handle, "collection": summer.handle, "size_m": tee.variants[1].id}
    return store, handles


def publish(app, store, name: str) -> None:
    with as_store(app, store):
        theming.publish(get_theme(name), actor=ACTOR)


def test_a_store_without_a_published_theme_shows_coming_soon(app, shop):
    store, handles = shop
    browser = Client(app.test_client(), host=store_host(app, store))
    home = browser.get("/")
    assert home.status_code == 200 and "coming soon" in home.get_data(as_text=True).lower()
    assert browser.get(f"/products/{handles['tee']}").status_code == 404


@pytest.mark.parametrize("theme", [t.name for t in themes()])
def test_every_page_of_every_theme_renders(app, shop, theme):
    store, handles = shop
    publish(app, store, theme)
    browser = Client(app.test_client(), host=store_host(app, store))
    pages = {"/": "Linen Tee", f"/products/{handles['tee']}": "Soft <b>linen</b>",
             f"/products/{handles['tee']}?option1=M": "In stock", "/collections": "Summer",
             f"/collections/{handles['collection']}": "Stoneware Mug", "/pages/about": "About us"}
    for path, expected in pages.items():
        response = browser.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, (path, body[:500])
        assert expected in body, path
        assert f"theme-{theme}" in body
        assert "Secret Draft" not in body
    product = browser.get(f"/products/{handles['tee']}").get_data(as_text=True)
    assert "Log in to save for later" in product and 'class="variant-picker"' in product  # in every theme
    missing = browser.get("/products/no-such-thing")
    assert missing.status_code == 404 and "Page not found" in missing.get_data(as_text=True)
    assert f"theme-{theme}" in missing.get_data(as_text=True)


@pytest.mark.parametrize("theme", [t.name for t in themes()])
def test_the_themes_pages_are_the_same_in_the_sandbox(app, shop, theme, caplog):
    """Without template overrides a store's pages render outside the sandbox
    (app.theming.render); with any override every page renders in it, the
    theme's own templates too. Both give the same page."""
    store, handles = shop
    publish(app, store, theme)
    browser = Client(app.test_client(), host=store_host(app, store))
    paths = ["/", f"/products/{handles['tee']}", f"/products/{handles['tee']}?option1=L", "/collections",
             f"/collections/{handles['collection']}", "/pages/about", "/search?q=linen", "/products/no-such-thing"]
    trusted = {path: browser.get(path).get_data(as_text=True) for path in paths}
    own = get_theme(theme).template_source("snippets/footer.html")
    with as_store(app, store):  # the theme's own footer, as a store template: every page now renders in the sandbox
        db.session.add(TemplateOverride(theme=theme, name="snippets/footer.html", source=own, updated_by=ACTOR))
        emit(theming.THEME_CHANGED)  # as theming.save_override does
        db.session.commit()
        overrides = theming.overrides(theme)
    sandboxed = {path: browser.get(path).get_data(as_text=True) for path in paths}
    assert sandboxed == trusted
    assert "store template override failed" not in caplog.text  # rendered in the sandbox, not fallen back from
    env = override_environment(get_theme(theme), overrides)
    compiled = {name for _, name in env.cache.keys()}
    assert {"layout.html", "product.html", "collection.html", "snippets/footer.html"} <= compiled


def test_the_variant_picker_shows_the_chosen_variants_availability(app, shop):
    store, handles = shop
    publish(app, store, "atelier")
    browser = Client(app.test_client(), host=store_host(app, store))
    large = browser.get(f"/products/{handles['tee']}?option1=L").get_data(as_text=True)
    medium = browser.get(f"/products/{handles['tee']}?variant={handles['size_m']}").get_data(as_text=True)
    assert "Sold out</p>" in large and "In stock</p>" not in large
    assert "In stock" in medium and "Sold out</p>" not in medium


def test_theme_assets_have_fingerprinted_urls_cached_for_a_year(app, shop):
    store, _ = shop
    publish(app, store, "atelier")
    browser = Client(app.test_client(), host=store_host(app, store))
    body = browser.get("/").get_data(as_text=True)
    import re

    css = re.search(r'href="(/assets/atelier/[0-9a-f]{12}/theme\.css)"', body).group(1)
    asset = browser.get(css)
    assert asset.status_code == 200 and "Atelier" in asset.get_data(as_text=True)
    asset.close()
    assert "immutable" in asset.headers["Cache-Control"] and "max-age=31536000" in asset.headers["Cache-Control"]
    stale = browser.get(css.replace(css.split("/")[3], "000000000000"))
    stale.close()
    assert stale.status_code == 200 and "immutable" not in stale.headers["Cache-Control"]
    assert browser.get("/assets/atelier/0/../../../pyproject.toml").status_code == 404


def test_collection_pages_filter_sort_and_page_through_the_index(app, shop):
    from tests.conftest import run_effects

    store, handles = shop
    publish(app, store, "atelier")
    with as_store(app, store):
        run_effects("search")
    browser = Client(app.test_client(), host=store_host(app, store))
    path = f"/collections/{handles['collection']}"
    page = browser.get(path).get_data(as_text=True)
    assert page.index("Linen Tee") < page.index("Stoneware Mug"), "featured keeps the collection's order"
    assert "Vendor" in page and "Loom" in page
    cheap_first = browser.get(f"{path}?sort=price_asc").get_data(as_text=True)
    assert cheap_first.index("Stoneware Mug") < cheap_first.index("Linen Tee")
    loom = browser.get(f"{path}?vendor=Loom").get_data(as_text=True)
    assert "Linen Tee" in loom and "Stoneware Mug" not in loom and "Vendor: Loom" in loom
    junk = browser.get(f"{path}?sort=%27;drop&page=-3&vendor=&price=abc&opt.%00=x&in_stock=maybe")
    assert junk.status_code in (200, 400)


def test_search_finds_a_typo_and_suggests_as_you_type(app, shop):
    from tests.conftest import run_effects

    store, handles = shop
    publish(app, store, "atelier")
    with as_store(app, store):
        run_effects("search")
    browser = Client(app.test_client(), host=store_host(app, store))
    found = browser.get("/search?q=lnen").get_data(as_text=True)
    assert "Linen Tee" in found and "Stoneware Mug" not in found
    suggested = browser.get("/search/suggest?q=ston", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Stoneware Mug" in suggested and "<html" not in suggested
    long = browser.get("/search?q=" + "tee " * 2000)
    assert long.status_code == 200


def test_recently_viewed_products_follow_the_shopper_and_ignore_junk_cookies(app, shop):
    store, handles = shop
    publish(app, store, "atelier")
    browser = Client(app.test_client(), host=store_host(app, store))
    first = browser.get(f"/recently-viewed?current={handles['tee']}")
    assert first.status_code == 200 and "Recently viewed" not in first.get_data(as_text=True)
    assert first.headers["Cache-Control"] == "private, no-store"
    second = browser.get(f"/recently-viewed?current={handles['mug']}").get_data(as_text=True)
    assert "Linen Tee" in second and "Stoneware Mug" not in second  # the current product is not listed
    browser.flask.set_cookie("recently_viewed", "abc.-1.99999999999999999999.\x00", domain=store_host(app, store))
    assert browser.get("/recently-viewed?current=nope").status_code == 200


def test_the_product_page_loads_in_the_same_queries_however_many_variants_and_images(app, make_store):
    """No query per variant or per image: a product of 60 variants and 6 images costs what one of 1 does."""

    from app.catalog.product_images import add_image
    from tests.catalog.helpers import png_bytes

    store = make_store()
    with as_store(app, store):
        small = catalog.create_product({"title": "Plain Pin", "price": "3.00", "status": "active"}, actor=ACTOR)
        add_image(small, png_bytes(40, 40), alt="Pin")
        big = catalog.create_product({"title": "Many Socks", "price": "9.00", "status": "active"},
                                     options=[OptionSpec("Size", ["XS", "S", "M", "L", "XL", "XXL"]),
                                              OptionSpec("Colour", [f"Shade {n}" for n in range(10)])], actor=ACTOR)
        for n in range(6):
            add_image(catalog.get_product(big.id), png_bytes(40 + n, 40), alt=f"Socks {n}")
        theming.publish(get_theme("atelier"), actor=ACTOR)
        handles = (small.handle, big.handle)
    browser = Client(app.test_client(), host=store_host(app, store))
    assert browser.get("/pages/none").status_code == 404  # the host is resolved and kept: not counted below
    assert browser.get(f"/products/{handles[0]}?warm=1").status_code == 200  # so are the store's launches (none)
    counts = []
    for handle in handles:
        with sql_statements() as statements:
            assert browser.get(f"/products/{handle}?fresh=1").status_code == 200
        counts.append(len([s for s in statements if s.lstrip().upper().startswith("SELECT")]))
    assert counts[0] == counts[1], counts


def test_a_theme_opened_after_another_keeps_what_the_merchant_chose_and_its_own_defaults(app, make_store):
    store = make_store()
    atelier, broadsheet = get_theme("atelier"), get_theme("broadsheet")
    with as_store(app, store):
        theming.save_draft(atelier, {"color_accent": "#123456", "announcement": "Summer sale"}, actor=ACTOR)
        theming.publish(atelier, actor=ACTOR)
        opened = theming.draft(broadsheet).settings
    assert opened["color_accent"] == "#123456" and opened["announcement"] == "Summer sale"  # chosen: carried
    assert opened["font_heading"] == broadsheet.default_settings()["font_heading"] != \
        atelier.default_settings()["font_heading"]  # left at Atelier's default: Broadsheet's own
    assert opened["color_background"] == broadsheet.default_settings()["color_background"]


def test_a_theme_image_must_be_the_stores_own(app, make_store):
    from app.parse import BadInput

    store, other = make_store(), make_store()
    atelier = get_theme("atelier")
    foreign = f"{other.id}/{'ab' * 16}.png"
    with as_store(app, store):
        with pytest.raises(BadInput, match="not an image of this store"):
            theming.save_draft(atelier, {"logo": foreign}, actor=ACTOR)
        assert theming.draft(atelier).settings["logo"] == ""
        own = f"{store.id}/{'cd' * 16}.png"
        assert theming.save_draft(atelier, {"logo": own}, actor=ACTOR).draft["settings"]["logo"] == own
