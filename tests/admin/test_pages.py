"""Pages of the dashboard's lists (products, inventory): bad pages, pages past the end, the pager."""
import re

import pytest
import sqlalchemy as sa

from app.catalog import products as catalog
from app.catalog.products import OptionSpec
from app.catalog.queries import PER_PAGE
from app.extensions import db
from app.inventory import service as inventory
from app.inventory.models import InventoryAdjustment, InventoryLevel
from app.inventory.service import OVERVIEW_PER_PAGE
from app.pagination import Page
from tests.conftest import as_store

ACTOR = "pages@example.com"
BAD_PAGES = ["²", "-1", "0", "1.5", "", "abc", "100001", "9" * 20, "\uff11"]  # the last: a full-width 1


@pytest.mark.parametrize("total, page, pages, prev_page, next_page", [
    (0, 1, 0, None, None), (1, 1, 1, None, None), (10, 1, 1, None, None), (11, 1, 2, None, 2), (11, 2, 2, 1, None),
    (30, 2, 3, 1, 3), (30, 9, 3, 3, None), (0, 4, 0, None, None),
])
def test_page_counts_and_links(total, page, pages, prev_page, next_page):
    found = Page([], total, page, 10)
    assert (found.pages, found.prev_page, found.next_page) == (pages, prev_page, next_page)


@pytest.mark.parametrize("page", BAD_PAGES)
def test_a_bad_page_is_a_400_on_both_lists(merchant, page):
    browser, _, store = merchant
    for path in ("products", "inventory"):
        for headers in ({}, {"HX-Request": "true", "HX-Target": "product-results"}):
            response = browser.get(f"/dashboard/{store.handle}/{path}", query_string={"page": page}, headers=headers)
            assert response.status_code == 400, (path, response.status_code)
            assert "The page must be" in response.get_data(as_text=True)


def test_a_bad_page_refuses_an_inventory_count_and_changes_nothing(app, merchant):
    browser, _, store = merchant
    with as_store(app, store):
        location = inventory.create_location("Depot").id
        variant = catalog.create_product({"title": "Crate", "price": "5"}, actor=ACTOR).variants[0].id
    path = f"/dashboard/{store.handle}/inventory"
    refused = browser.post(f"{path}?page=0", {"variant_id": str(variant), "location_id": str(location),
                                              "quantity": "6"}, csrf_from=path)
    assert refused.status_code == 400
    with as_store(app, store):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InventoryLevel)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InventoryAdjustment)) == 0


@pytest.mark.parametrize("variant_id", ["9" * 20, "²", ""])
def test_a_bad_variant_id_on_the_inventory_page_is_refused(app, merchant, variant_id):
    browser, _, store = merchant
    with as_store(app, store):
        location = inventory.create_location("Depot").id
    path = f"/dashboard/{store.handle}/inventory"
    refused = browser.post(path, {"variant_id": variant_id, "location_id": str(location), "quantity": "6"},
                           csrf_from=path)
    assert refused.status_code == 422 and "The variant" in refused.get_data(as_text=True)


def _pager(html: str) -> tuple[list[str], str | None]:
    """The pager's link targets and its "Page x of y" text."""
    nav = re.search(r'<nav class="pager".*?</nav>', html, re.S)
    if nav is None:
        return [], None
    links = [href.replace("&amp;", "&") for href in re.findall(r'<a href="\?([^"]*)"', nav.group(0))]
    return links, re.search(r"Page \d+ of \d+", nav.group(0)).group(0)


def test_product_list_pages_and_a_page_past_the_end(app, merchant):
    browser, _, store = merchant
    with as_store(app, store):
        for n in range(PER_PAGE + 2):
            catalog.create_product({"title": f"Poster {n:02}", "price": "3"}, actor=ACTOR)
    path = f"/dashboard/{store.handle}/products"
    first = browser.get(f"{path}?sort=title").get_data(as_text=True)
    assert "Poster 00" in first and f"Poster {PER_PAGE:02}" not in first
    assert _pager(first) == (["sort=title&page=2"], "Page 1 of 2")

    partial = browser.get(f"{path}?sort=title&page=2", headers={"HX-Request": "true", "HX-Target": "product-results"})
    html = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in html and html.lstrip().startswith("<section")
    assert f"Poster {PER_PAGE:02}" in html and f"Poster {PER_PAGE + 1:02}" in html and "Poster 00" not in html
    assert 'hx-get="?sort=title"' in html  # back to page 1, as an htmx partial
    assert _pager(html) == (["sort=title"], "Page 2 of 2")

    beyond = browser.get(f"{path}?sort=title&page=7")
    html = beyond.get_data(as_text=True)
    assert beyond.status_code == 200 and "Poster" not in html.split('<tbody>')[1].split('</tbody>')[0]
    assert f"{PER_PAGE + 2} products" in html and "No products on this page" in html
    assert _pager(html) == (["sort=title&page=2"], "Page 7 of 2")  # "previous" is the last page


def test_inventory_pages_and_a_page_past_the_end(app, merchant):
    browser, _, store = merchant
    sizes = [f"S{n}" for n in range(OVERVIEW_PER_PAGE // 5 + 1)]
    with as_store(app, store):
        inventory.create_location("Depot")
        catalog.create_product({"title": "Sock", "price": "2"}, actor=ACTOR,
                               options=[OptionSpec("Size", sizes), OptionSpec("Colour", list("ABCDE"))])
    variants = len(sizes) * 5
    path = f"/dashboard/{store.handle}/inventory"
    first = browser.get(path).get_data(as_text=True)
    assert f"{variants} tracked variants" in first
    assert len(re.findall(r'name="variant_id"', first)) == OVERVIEW_PER_PAGE
    assert _pager(first) == (["q=&page=2"], "Page 1 of 2")

    second = browser.get(f"{path}?q=sock&page=2").get_data(as_text=True)
    assert len(re.findall(r'name="variant_id"', second)) == variants - OVERVIEW_PER_PAGE
    assert _pager(second) == (["q=sock&page=1"], "Page 2 of 2")

    beyond = browser.get(f"{path}?page=3")
    html = beyond.get_data(as_text=True)
    assert beyond.status_code == 200 and 'name="variant_id"' not in html and "No variants on this page" in html
    assert _pager(html) == (["q=&page=2"], "Page 3 of 2")
