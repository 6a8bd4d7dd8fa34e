"""Every page of every theme in Chromium, on a 390 px phone and a desktop: no
horizontal scroll, nothing serious for axe-core, no CSP violation."""
from __future__ import annotations

import pytest

from app.theming.registry import themes
from tests.e2e.a11y import axe_problems
from tests.storefront.test_themes_look import PHONE, make_shop, publish, wide

THEMES = [theme.name for theme in themes()]


@pytest.fixture
def shop(app, make_store):
    return make_shop(app, make_store)


@pytest.mark.parametrize("name", THEMES)
def test_every_page_fits_a_phone_and_axe_finds_nothing_serious(app, shop, live_server, open_page, name):
    store, handles = shop
    publish(app, store, name)
    base = f"http://{store.handle}.localhost:{live_server}"
    paths = ["/", f"/products/{handles['tee']}", f"/products/{handles['mug']}", "/collections",
             f"/collections/{handles['collection']}", "/search?q=tee", "/pages/about", "/products/no-such-thing"]
    for width, height in ((PHONE["width"], PHONE["height"]), (1280, 800)):
        page = open_page(width=width, height=height)
        for path in paths:
            page.goto(base + path)
            assert page.locator(f"body.theme-{name}").count() == 1, path
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{name} {path} at {width} px scrolls sideways by {overflow} px: {wide(page)}"
            problems = axe_problems(page)
            assert not problems, f"axe on {name} {path} at {width} px:\n" + "\n".join(problems)
