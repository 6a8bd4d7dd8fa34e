"""Every page of every theme (the cart with a line in it too) in Chromium, on a 390 px phone and a desktop: no
horizontal scroll, nothing serious for axe-core, no CSP violation."""
from __future__ import annotations

import pytest

from app.theming.registry import themes
from tests.e2e.a11y import axe_problems
from tests.storefront.test_themes_look import PHONE, make_shop, publish, wide

THEMES = [theme.name for theme in themes()]


@pytest.fixture
def shop(app, make_store):
    """The shop, with a waiting room in front of the mug (open) and a draw in front of the tee (taking entries)."""
    from datetime import timedelta

    from app.catalog import products as catalog
    from app.inventory import service as inventory
    from app.launches import service as launches
    from app.storefront.catalog import product_by_handle
    from tests.conftest import as_store

    store, handles = make_shop(app, make_store)
    opened = (launches.utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M")
    closes = (launches.utcnow() + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    with as_store(app, store):
        queue = launches.create_launch({"kind": "queue", "product_id": str(product_by_handle(handles["mug"]).id),
                                        "starts_at": opened, "rate_per_minute": "60"}, actor="phone@example.com")
        drop = launches.create_launch({"kind": "draw", "product_id": str(product_by_handle(handles["tee"]).id),
                                       "starts_at": opened, "entry_ends_at": closes, "winners": "3"},
                                      actor="phone@example.com")
        candle = catalog.create_product({"title": "Beeswax Candle", "price": "12.00", "status": "active"},
                                        actor="phone@example.com")
        inventory.adjust(candle.variants[0].id, inventory.default_location().id, "5", reason="received",
                         actor="phone@example.com")
        handles = {**handles, "queue": queue.id, "draw": drop.id, "candle": candle.handle}
    return store, handles


@pytest.mark.parametrize("name", THEMES)
def test_every_page_fits_a_phone_and_axe_finds_nothing_serious(app, shop, live_server, open_page, name):
    store, handles = shop
    publish(app, store, name)
    base = f"http://{store.handle}.localhost:{live_server}"
    paths = ["/", f"/products/{handles['tee']}", f"/products/{handles['mug']}", "/collections",
             f"/collections/{handles['collection']}", "/search?q=tee", "/pages/about", "/products/no-such-thing",
             f"/launches/{handles['queue']}", f"/launches/{handles['draw']}", "/cart"]
    for width, height in ((PHONE["width"], PHONE["height"]), (1280, 800)):
        page = open_page(width=width, height=height)
        page.goto(f"{base}/products/{handles['candle']}")
        page.get_by_role("button", name="Add to cart").click()  # so the cart page has a line to show
        page.get_by_text("Added to your cart").wait_for()
        for path in paths:
            page.goto(base + path)
            assert page.locator(f"body.theme-{name}").count() == 1, path
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} {path} at {width} px scrolls sideways by {overflow} px: {wide(page)}"
            problems = axe_problems(page)
            assert not problems, f"axe on {name} {path} at {width} px:\n" + "\n".join(problems)
