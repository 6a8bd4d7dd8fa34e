"""The wishlist: "Save for later" on the product page (htmx fragment or a
plain form), the wishlist page, removing; unknown and other stores' products
are 404s."""
from __future__ import annotations

import uuid

import pytest

from app.catalog import products as catalog
from app.catalog.models import Product
from app.customers import wishlist
from app.extensions import db
from tests.conftest import as_store
from tests.customers.helpers import ACTOR, browser, make_shop, rows, shopper


@pytest.fixture
def shop(app, make_store):
    return make_shop(app, make_store)


def email() -> str:
    return f"ada-{uuid.uuid4().hex[:8]}@example.com"


def saved(app, shop) -> list[int]:
    return [row[0] for row in rows(app, shop, "SELECT product_id FROM wishlist_items ORDER BY id")]


def test_an_anonymous_product_page_links_to_log_in(app, shop):
    handle = shop.handles["Linen Tee"]
    page = browser(app, shop).get(f"/products/{handle}").get_data(as_text=True)
    assert f'href="/account/login?next=/products/{handle}">Log in to save for later' in page
    assert "/wishlist/" not in page


def test_save_from_the_product_page_without_javascript(app, shop):
    client = shopper(app, shop, email())
    handle = shop.handles["Linen Tee"]
    product_page = f"/products/{handle}"
    assert 'aria-pressed="false">Save for later' in client.get(product_page).get_data(as_text=True)
    response = client.post(f"/wishlist/{handle}", {"next": product_page}, csrf_from=product_page)
    assert response.status_code == 303 and response.headers["Location"] == product_page
    again = client.get(product_page)
    assert 'aria-pressed="true">Saved for later' in again.get_data(as_text=True)
    assert again.headers["Cache-Control"].startswith("private")  # a personal page is never cached
    assert saved(app, shop) == [shop.ids[handle]]
    # saving twice keeps one
    client.post(f"/wishlist/{handle}", csrf_from=product_page)
    assert saved(app, shop) == [shop.ids[handle]]


def test_htmx_gets_the_button_back(app, shop):
    client = shopper(app, shop, email())
    handle = shop.handles["Stoneware Mug"]
    token = client.csrf_token(f"/products/{handle}")
    response = client.flask.post(f"/wishlist/{handle}", data={"csrf_token": token},
                                 headers={"Host": shop.host, "HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<div class="wishlist-button"')
    assert 'aria-pressed="true"' in body and f'hx-post="/wishlist/{handle}/remove"' in body
    assert response.headers["Cache-Control"] == "private, no-store"
    removed = client.flask.post(f"/wishlist/{handle}/remove", data={"csrf_token": token},
                                headers={"Host": shop.host, "HX-Request": "true"})
    assert 'aria-pressed="false"' in removed.get_data(as_text=True)
    assert saved(app, shop) == []


def test_the_wishlist_page_lists_and_removes(app, shop):
    client = shopper(app, shop, email())
    for title in ("Linen Tee", "Stoneware Mug"):
        client.post(f"/wishlist/{shop.handles[title]}", csrf_from="/account/wishlist")
    page = client.get("/account/wishlist").get_data(as_text=True)
    assert "Linen Tee" in page and "Stoneware Mug" in page
    mug = shop.handles["Stoneware Mug"]
    response = client.post(f"/wishlist/{mug}/remove", {"next": "/account/wishlist"}, csrf_from="/account/wishlist")
    assert response.status_code == 303 and response.headers["Location"] == "/account/wishlist"
    page = client.get("/account/wishlist").get_data(as_text=True)
    assert "Linen Tee" in page and "Stoneware Mug" not in page


def test_an_empty_wishlist_says_so(app, shop):
    client = shopper(app, shop, email())
    assert "Nothing saved yet" in client.get("/account/wishlist").get_data(as_text=True)


def test_a_deleted_product_leaves_every_wishlist(app, shop):
    client = shopper(app, shop, email())
    tee = shop.handles["Linen Tee"]
    client.post(f"/wishlist/{tee}", csrf_from="/account/wishlist")
    with as_store(app, shop.store):
        db.session.delete(db.session.get(Product, (shop.store.id, shop.ids[tee])))
        db.session.commit()
    assert saved(app, shop) == []
    assert client.get("/account/wishlist").status_code == 200


def test_unknown_and_other_stores_products_are_404s(app, make_store, shop):
    other = make_shop(app, make_store, products=("Secret Lamp",))
    client = shopper(app, shop, email())
    for handle in ("no-such-product", other.handles["Secret Lamp"], "x" * 300):
        assert client.post(f"/wishlist/{handle}", csrf_from="/account/wishlist").status_code == 404
    with as_store(app, shop.store):
        draft = catalog.create_product({"title": "Draft Thing", "price": "1.00", "status": "draft"},
                                       actor=ACTOR).handle
    assert client.post(f"/wishlist/{draft}", csrf_from="/account/wishlist").status_code == 404
    assert saved(app, shop) == [] and saved(app, other) == []


def test_anonymous_saves_go_to_log_in(app, shop):
    client = browser(app, shop)
    handle = shop.handles["Linen Tee"]
    plain = client.post(f"/wishlist/{handle}", csrf_from="/account/login")
    assert plain.status_code == 303 and plain.headers["Location"] == f"/account/login?next=/products/{handle}"
    token = client.csrf_token("/account/login")
    htmx = client.flask.post(f"/wishlist/{handle}", data={"csrf_token": token},
                             headers={"Host": shop.host, "HX-Request": "true"})
    assert htmx.headers["HX-Redirect"] == f"/account/login?next=/products/{handle}"
    assert saved(app, shop) == []


def test_a_full_wishlist_refuses_more_and_keeps_what_it_has(app, shop, monkeypatch):
    monkeypatch.setattr(wishlist, "MAX_ITEMS", 1)
    client = shopper(app, shop, email())
    tee, mug = shop.handles["Linen Tee"], shop.handles["Stoneware Mug"]
    assert client.post(f"/wishlist/{tee}", csrf_from="/account/wishlist").status_code == 303
    refused = client.post(f"/wishlist/{mug}", csrf_from="/account/wishlist")
    assert refused.status_code == 422 and "at most 1 products" in refused.get_data(as_text=True)
    assert saved(app, shop) == [shop.ids[tee]]
