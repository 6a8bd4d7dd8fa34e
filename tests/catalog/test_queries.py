"""The dashboard list's search, filters and pages."""
import sqlalchemy as sa

from app.catalog import products as catalog
from app.catalog.queries import PER_PAGE, ProductQuery, list_products
from app.extensions import db
from app.inventory import service as inventory
from app.inventory.models import Location
from tests.conftest import as_store

ACTOR = "t@example.com"


def _titles(app, store, **args) -> list[str]:
    with as_store(app, store):
        listing = list_products(ProductQuery.from_args(args))
        return sorted(row.product.title for row in listing.results.items)


def test_stock_filters_follow_levels_at_active_locations(app, make_store):
    store = make_store()
    with as_store(app, store):
        stocked = catalog.create_product({"title": "Stocked", "price": "1", "low_stock_threshold": "2"}, actor=ACTOR)
        low = catalog.create_product({"title": "Low", "price": "1", "low_stock_threshold": "5"}, actor=ACTOR)
        catalog.create_product({"title": "Empty", "price": "1"}, actor=ACTOR)
        catalog.create_product({"title": "Untracked", "price": "1", "track_inventory": "off"}, actor=ACTOR)
        closed_only = catalog.create_product({"title": "Closed only", "price": "1"}, actor=ACTOR)
        ids = {p.title: p.variants[0].id for p in (stocked, low, closed_only)}
    with as_store(app, store):
        open_id = inventory.create_location("Open").id
    with as_store(app, store):
        closed_id = inventory.create_location("Closing").id
    with as_store(app, store):
        inventory.adjust(ids["Stocked"], open_id, 9, reason="received", actor=ACTOR)
        inventory.adjust(ids["Low"], open_id, 3, reason="received", actor=ACTOR)
        inventory.adjust(ids["Closed only"], closed_id, 4, reason="received", actor=ACTOR)
    with as_store(app, store):
        db.session.execute(sa.update(Location).where(Location.id == closed_id).values(active=False))
    assert _titles(app, store, stock="in") == ["Low", "Stocked", "Untracked"]
    assert _titles(app, store, stock="out") == ["Closed only", "Empty"]
    assert _titles(app, store, stock="low") == ["Low"]


def test_search_by_word_prefix_and_sku_and_paging(app, make_store):
    store = make_store()
    with as_store(app, store):
        catalog.create_product({"title": "Glacier Parka", "price": "1", "vendor": "Nordic", "sku": "GP-01"},
                               actor=ACTOR)
        catalog.create_product({"title": "Trail Shoe", "price": "1", "sku": "TS-01"}, actor=ACTOR)
        for n in range(PER_PAGE + 5):
            catalog.create_product({"title": f"Filler {n}", "price": "1"}, actor=ACTOR)
    assert _titles(app, store, q="glac") == ["Glacier Parka"]
    assert _titles(app, store, q="nordic") == ["Glacier Parka"]
    assert _titles(app, store, q="ts-0") == ["Trail Shoe"]
    assert _titles(app, store, q="%") == []
    with as_store(app, store):
        first = list_products(ProductQuery.from_args({"q": "filler"}))
        second = list_products(ProductQuery.from_args({"q": "filler", "page": "2"}))
        first, second = first.results, second.results
        first_ids, second_ids = {r.product.id for r in first.items}, {r.product.id for r in second.items}
    assert first.total == second.total == PER_PAGE + 5 and first.pages == 2
    assert len(first_ids) == PER_PAGE and len(second_ids) == 5 and not first_ids & second_ids
