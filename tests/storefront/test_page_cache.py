"""Storefront pages are cached per store in Redis, revalidated with ETags, and
dropped when what they show changes: never one store's page for another."""
from __future__ import annotations

import sqlalchemy as sa

from app.catalog import products as catalog
from app.inventory import service as inventory
from app.theming import service as theming
from app.theming.registry import get_theme
from tests.conftest import Client, as_store, sql_statements
from tests.outages.test_outages import redis_app  # noqa: F401  (a fixture: a Redis this test may stop)
from tests.storefront.test_theme_pages import ACTOR, store_host


def open_shop(app, make_store, title: str, price: str = "20.00"):
    """A pooled store with one active product, published: (placement, product handle, variant id, browser)."""
    store = make_store()
    with as_store(app, store):
        product = catalog.create_product({"title": title, "price": price, "status": "active"}, actor=ACTOR)
        theming.publish(get_theme("atelier"), actor=ACTOR)
        handle, variant_id = product.handle, product.variants[0].id
    return store, handle, variant_id, Client(app.test_client(), host=store_host(app, store))


def test_a_cached_page_is_served_again_and_revalidates_with_its_etag(app, make_store):
    store, handle, _, browser = open_shop(app, make_store, "Cached Candle")
    first = browser.get(f"/products/{handle}")
    second = browser.get(f"/products/{handle}")
    assert first.status_code == second.status_code == 200
    assert (first.headers["X-Cache"], second.headers["X-Cache"]) == ("MISS", "HIT")
    assert first.get_data() == second.get_data() and first.headers["ETag"] == second.headers["ETag"]
    assert "must-revalidate" in first.headers["Cache-Control"] and "public" in first.headers["Cache-Control"]
    not_modified = browser.get(f"/products/{handle}", headers={"If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304 and not_modified.get_data() == b""
    changed = browser.get(f"/products/{handle}", headers={"If-None-Match": '"something-else"'})
    assert changed.status_code == 200


def test_two_stores_in_one_pooled_schema_never_share_a_cached_page(app, make_store):
    one, handle_one, _, shopper_one = open_shop(app, make_store, "Walnut Bowl")
    two, handle_two, _, shopper_two = open_shop(app, make_store, "Walnut Bowl")
    assert one.schema == two.schema, "both stores should share the pooled schema"
    assert shopper_one.get("/").status_code == 200
    home_two = shopper_two.get("/").get_data(as_text=True)
    assert two.name in home_two and f'href="/products/{handle_two}"' in home_two
    # Same path on both hosts: each store's own page.
    shopper_two.get(f"/products/{handle_two}")
    assert shopper_one.get(f"/products/{handle_two}").status_code in (200, 404)
    with as_store(app, one):
        catalog.update_product(catalog.get_product(_id(app, one, handle_one)), {"title": "Oak Bowl"}, actor=ACTOR)
    assert "Oak Bowl" in shopper_one.get(f"/products/{handle_one}").get_data(as_text=True)
    assert "Oak Bowl" not in shopper_two.get(f"/products/{handle_two}").get_data(as_text=True)


def _id(app, store, handle: str) -> int:
    from app.storefront.catalog import product_by_handle

    with as_store(app, store):
        return product_by_handle(handle).id


def test_a_price_change_is_shown_at_once(app, make_store):
    store, handle, variant_id, browser = open_shop(app, make_store, "Copper Kettle", "40.00")
    assert "$40.00" in browser.get(f"/products/{handle}").get_data(as_text=True)
    assert "$40.00" in browser.get("/").get_data(as_text=True)
    with as_store(app, store):
        product = catalog.get_product(_id(app, store, handle))
        catalog.update_variant(product, variant_id, {"price": "35.00"}, actor=ACTOR)
    assert "$35.00" in browser.get(f"/products/{handle}").get_data(as_text=True)
    assert "$35.00" in browser.get("/").get_data(as_text=True)


def test_the_last_unit_going_turns_the_cached_page_to_sold_out(app, make_store):
    store, handle, variant_id, browser = open_shop(app, make_store, "Last Lamp")
    with as_store(app, store):
        location_id = (inventory.default_location() or inventory.create_location("Main location")).id
        inventory.adjust(variant_id, location_id, "1", reason="received", actor=ACTOR)
    assert "In stock</p>" in browser.get(f"/products/{handle}").get_data(as_text=True)
    assert browser.get(f"/products/{handle}").headers["X-Cache"] == "HIT"
    with as_store(app, store):
        inventory.adjust(variant_id, location_id, "-1", reason="correction", actor=ACTOR)  # (orders come with checkout)
    page = browser.get(f"/products/{handle}").get_data(as_text=True)
    assert "Sold out</p>" in page and "In stock</p>" not in page


def test_pages_are_rendered_from_postgresql_while_redis_is_away(app, redis_app, make_store):
    from app import embedded

    store, handle, _, _ = open_shop(app, make_store, "Offline Oar")
    shopper = Client(redis_app.test_client(), host=store_host(app, store))
    assert shopper.get(f"/products/{handle}").status_code == 200
    assert shopper.get(f"/products/{handle}").headers["X-Cache"] == "HIT"
    embedded.stop_redis(redis_app.redis_data)
    response = shopper.get(f"/products/{handle}")
    assert response.status_code == 200 and "Offline Oar" in response.get_data(as_text=True)
    assert response.headers["X-Cache"] == "MISS"


def test_what_every_page_shows_is_kept_in_process_until_a_write_bumps_the_generation(app, make_store, monkeypatch):
    """The live theme, the template overrides and the menus are kept in the process under the page
    cache's generation (app.storefront.cache.remember): a publish, a template saved or a new collection
    shows on the next uncached page; a change that bumps nothing shows once the short TTL has passed."""
    from app.catalog import collections
    from app.effects import emit
    from app.extensions import db
    from app.storefront import cache
    from app.theming.models import TemplateOverride

    store, handle, _, browser = open_shop(app, make_store, "Kept Kettle")
    pages = iter(range(1000))

    def page() -> str:  # a query string never asked before: rendered, never the page cache's copy
        response = browser.get(f"/products/{handle}?n={next(pages)}")
        assert response.headers["X-Cache"] == "MISS"
        return response.get_data(as_text=True)

    assert "theme-atelier" in page() and "theme-atelier" in page()  # the second from the process
    with as_store(app, store):
        theming.publish(get_theme("broadsheet"), actor=ACTOR)
    assert "theme-broadsheet" in page()
    with as_store(app, store):
        db.session.add(TemplateOverride(theme="broadsheet", name="snippets/footer.html", updated_by=ACTOR,
                                        source='<footer class="site-footer">Kept footer</footer>'))
        emit(theming.THEME_CHANGED)  # as theming.save_override does
        db.session.commit()
    assert "Kept footer" in page()
    with as_store(app, store):
        collections.create_collection({"title": "Kettles and Pots"}, kind="manual")
    assert "Kettles and Pots" in page()
    with as_store(app, store):  # no event: the process keeps what it read (as the page cache would) ...
        db.session.execute(sa.update(TemplateOverride).values(source="<footer>Edited by hand</footer>"))
        db.session.commit()
    assert "Kept footer" in page()
    monkeypatch.setattr(cache, "REMEMBER_SECONDS", 0)  # ... until its TTL has passed
    assert "Edited by hand" in page()


def test_a_route_outside_the_page_cache_reads_the_live_theme_once_per_generation(app, make_store):
    """/recently-viewed (never cached: it is the shopper's own) reads the store's generation itself."""

    store, handle, _, browser = open_shop(app, make_store, "Viewed Vase")

    def theme_reads(path: str) -> int:
        with sql_statements() as statements:
            assert browser.get(path).status_code == 200
        return sum("store_themes" in statement for statement in statements)

    assert theme_reads(f"/recently-viewed?current={handle}") == 1
    assert theme_reads(f"/recently-viewed?current={handle}") == 0
    with as_store(app, store):
        theming.publish(get_theme("ledger"), actor=ACTOR)
    assert theme_reads(f"/recently-viewed?current={handle}") == 1
