"""The cart on the storefront: add from the product page (form and htmx),
the cart page, quantity and remove, the header's count, shortages (409,
nothing changed), bad input (4xx, nothing changed), price changes, lapsed
holds, and the guest cart joining the customer's on log-in."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.cart import storage
from app.cart.web import COOKIE
from app.catalog import products as catalog
from app.catalog.models import Variant
from app.extensions import db
from tests.cart.helpers import tenant_sql, ACTOR, add, browser, cart_lines, change, held, levels, make_shop
from tests.conftest import as_store, sql_statements
from tests.outages.test_outages import redis_app  # noqa: F401  (a fixture: a Redis this test may stop)
from tests.customers.helpers import SECRET, log_in, register


@pytest.fixture
def shop(app, make_store):
    return make_shop(app, make_store)


def test_add_from_the_product_page_without_javascript(app, shop):
    client = browser(app, shop)
    tee = shop.variants["Linen Tee"]
    product_page = client.get(f"/products/{shop.handles['Linen Tee']}").get_data(as_text=True)
    assert f'name="variant_id" value="{tee}"' in product_page and "Add to cart" in product_page

    response = add(client, tee, 2)
    assert response.status_code == 303 and response.headers["Location"] == "/cart"
    assert COOKIE in response.headers.get("Set-Cookie", "")
    page = client.get("/cart")
    body = page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "private, no-store"
    assert cart_lines(body) == {str(tee): "2"}
    assert "Held for you for 15 more minutes" in body
    assert levels(app, shop, tee) == (5, 2) and held(app, shop, tee) == 2


def test_htmx_add_answers_the_status_line_and_the_header_count_follows(app, shop):
    client = browser(app, shop)
    tee = shop.variants["Linen Tee"]
    response = add(client, tee, htmx=True)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "cart-changed"
    assert "Added to your cart" in response.get_data(as_text=True)
    add(client, shop.variants["Stoneware Mug"], 2, htmx=True)
    count = client.get("/cart/count").get_data(as_text=True)
    assert '<span class="cart-count">3</span>' in count
    # the cached product page carries no count of its own: it fetches it
    page = client.get(f"/products/{shop.handles['Linen Tee']}").get_data(as_text=True)
    assert 'hx-get="/cart/count" hx-trigger="load, cart-changed from:body"' in page


def test_a_shortage_is_a_409_naming_what_is_left_and_changes_nothing(app, shop):
    client = browser(app, shop)
    mug = shop.variants["Stoneware Mug"]
    add(client, mug, 2)
    response = add(client, mug, 2, htmx=True)
    assert response.status_code == 409
    assert "Only 3 of Stoneware Mug can be in your cart. Your cart has 2." in response.get_data(as_text=True)
    assert cart_lines(client.get("/cart").get_data(as_text=True)) == {str(mug): "2"}
    assert levels(app, shop, mug) == (3, 2)
    # without JavaScript the cart page says it, with the status
    plain = add(client, mug, 5)
    assert plain.status_code == 409 and "Only 3 of Stoneware Mug" in plain.get_data(as_text=True)
    assert levels(app, shop, mug) == (3, 2)


def test_change_quantity_and_remove_release_the_stock(app, shop):
    client = browser(app, shop)
    tee = shop.variants["Linen Tee"]
    add(client, tee, 3)
    assert change(client, tee, 4).status_code == 303
    assert levels(app, shop, tee) == (5, 4)
    response = change(client, tee, 1, htmx=True)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "cart-changed"
    assert cart_lines(response.get_data(as_text=True)) == {str(tee): "1"}
    assert levels(app, shop, tee) == (5, 1)
    too_many = change(client, tee, 6, htmx=True)
    assert too_many.status_code == 409 and "Only 5 of Linen Tee" in too_many.get_data(as_text=True)
    assert levels(app, shop, tee) == (5, 1)
    removed = client.flask.post(f"/cart/lines/{tee}/remove", headers={"Host": shop.host})
    assert removed.status_code == 303
    assert levels(app, shop, tee) == (5, 0) and held(app, shop, tee) == 0
    assert "Your cart is empty" in client.get("/cart").get_data(as_text=True)
    add(client, tee, 2)
    assert change(client, tee, 0).status_code == 303  # 0 removes too
    assert levels(app, shop, tee) == (5, 0)
    add(client, tee, 2)
    add(client, shop.variants["Stoneware Mug"], 1)
    emptied = client.flask.post("/cart/clear", headers={"Host": shop.host, "HX-Request": "true"})
    assert emptied.status_code == 200 and "Your cart is empty" in emptied.get_data(as_text=True)
    assert levels(app, shop, tee) == (5, 0) and levels(app, shop, shop.variants["Stoneware Mug"]) == (3, 0)


@pytest.mark.parametrize("quantity", ["0", "-1", "1.5", "abc", "101", "²", "9" * 40, "1\x00"])
def test_bad_quantities_are_refused_and_change_nothing(app, shop, quantity):
    client = browser(app, shop)
    tee = shop.variants["Linen Tee"]
    response = add(client, tee, quantity)
    assert 400 <= response.status_code < 500
    assert levels(app, shop, tee) == (5, 0)
    assert 'class="cart-count"' not in client.get("/cart/count").get_data(as_text=True)


def test_unknown_and_other_stores_variants_are_404s(app, make_store, shop):
    other = make_shop(app, make_store, {"Elsewhere Scarf": 4})
    client = browser(app, shop)
    for variant_id in (other.variants["Elsewhere Scarf"], 9_999_999_999, "x", ""):
        response = add(client, variant_id)
        assert response.status_code in (404, 422), variant_id
    assert levels(app, other, other.variants["Elsewhere Scarf"]) == (4, 0)
    # a draft product is not for sale either
    with as_store(app, shop.store):
        product = catalog.create_product({"title": "Secret", "price": "9.00", "status": "draft"}, actor=ACTOR)
        draft = db.session.scalar(sa.select(Variant.id).where(Variant.product_id == product.id))
    assert add(client, draft).status_code == 404


def test_a_forged_or_foreign_cart_cookie_is_a_400_that_clears_it(app, make_store, shop):
    client = browser(app, shop)
    client.flask.set_cookie(COOKIE, "forged.token.value", domain=shop.host)
    response = add(client, shop.variants["Linen Tee"])
    assert response.status_code == 400 and "not valid any more" in response.get_data(as_text=True)
    assert f"{COOKIE}=;" in response.headers.get("Set-Cookie", "")
    assert levels(app, shop, shop.variants["Linen Tee"]) == (5, 0)
    # a token of another store's cart does not name a cart here
    other = make_shop(app, make_store, {"Elsewhere Scarf": 4})
    elsewhere = browser(app, other)
    token = add(elsewhere, other.variants["Elsewhere Scarf"]).headers["X-Cart-Token"]
    assert client.flask.get("/cart", headers={"Host": shop.host, "X-Cart-Token": token}).status_code == 400


def test_a_second_change_while_one_is_in_flight_is_refused(app, shop):
    client = browser(app, shop)
    tee = shop.variants["Linen Tee"]
    token = add(client, tee).headers["X-Cart-Token"]
    with app.app_context(), app.test_request_context(headers={"Host": shop.host}):
        from app.cart import tokens
        owner = tokens.read(token, shop.store.id)
        with storage.changing(owner):
            response = add(client, tee)
    assert response.status_code == 409 and "being updated" in response.get_data(as_text=True)
    assert levels(app, shop, tee) == (5, 1)


def test_a_cross_site_post_is_refused(app, shop):
    client = browser(app, shop)
    response = add(client, shop.variants["Linen Tee"], Origin="https://evil.example")
    assert response.status_code == 403
    assert levels(app, shop, shop.variants["Linen Tee"]) == (5, 0)


def test_the_cart_says_when_a_price_changed(app, shop):
    client = browser(app, shop)
    tee = shop.variants["Linen Tee"]
    add(client, tee)
    with as_store(app, shop.store):
        db.session.execute(sa.update(Variant).where(Variant.id == tee).values(price=1500))
        db.session.commit()
    body = client.get("/cart").get_data(as_text=True)
    assert "Down from" in body and "since you added it" in body


def test_a_lapsed_hold_is_taken_again_or_the_line_goes_when_it_sold_out(app, shop):
    first, second = browser(app, shop), browser(app, shop)
    mug = shop.variants["Stoneware Mug"]
    add(first, mug, 2)
    _expire_holds(app, shop)
    # nobody took them: the cart holds them again when looked at
    assert cart_lines(first.get("/cart").get_data(as_text=True)) == {str(mug): "2"}
    assert levels(app, shop, mug) == (3, 2) and held(app, shop, mug) == 2
    _expire_holds(app, shop)
    add(second, mug, 3)  # the lapsed hold is given back, and another shopper takes all three
    body = first.get("/cart").get_data(as_text=True)
    assert "Stoneware Mug sold out while it was in your cart" in body and cart_lines(body) == {}
    assert levels(app, shop, mug) == (3, 3)


def test_a_guest_cart_joins_the_customers_on_log_in(app, shop):
    tee, mug = shop.variants["Linen Tee"], shop.variants["Stoneware Mug"]
    customer = browser(app, shop)
    assert register(customer, "joins@example.com").status_code == 303
    add(customer, tee, 2)
    customer.post("/account/logout", csrf_from="/account")

    guest = browser(app, shop)
    add(guest, tee, 2)
    add(guest, mug, 1)
    response = log_in(guest, "joins@example.com", SECRET)
    assert response.status_code == 303 and f"{COOKIE}=;" in response.headers.get("Set-Cookie", "")
    assert cart_lines(guest.get("/cart").get_data(as_text=True)) == {str(tee): "4", str(mug): "1"}
    assert levels(app, shop, tee) == (5, 4) and held(app, shop, tee) == 4
    # the cart follows the customer to another device
    other_device = browser(app, shop)
    log_in(other_device, "joins@example.com", SECRET)
    assert cart_lines(other_device.get("/cart").get_data(as_text=True)) == {str(tee): "4", str(mug): "1"}


def test_merging_caps_at_what_can_be_held_and_says_so(app, shop):
    mug = shop.variants["Stoneware Mug"]
    customer = browser(app, shop)
    register(customer, "caps@example.com")
    add(customer, mug, 2)
    customer.post("/account/logout", csrf_from="/account")
    guest = browser(app, shop)
    add(guest, mug, 1)
    _expire_holds(app, shop)
    third = browser(app, shop)
    add(third, mug, 2)  # takes the lapsed units: one is left
    log_in(guest, "caps@example.com", SECRET)
    body = guest.get("/cart").get_data(as_text=True)
    assert cart_lines(body) == {str(mug): "1"}
    assert "Only 1 of Stoneware Mug could be kept in your cart." in body
    assert levels(app, shop, mug) == (3, 3)


def _expire_holds(app, shop) -> None:
    with as_store(app, shop.store):
        tenant_sql(sa.text("UPDATE reservations SET expires_at = now() - interval '1 second'"))
        db.session.commit()


def test_while_redis_is_away_the_cart_answers_503_and_shoppers_still_browse(app, redis_app, make_store, shop):
    from app import embedded
    from tests.conftest import Client

    client = Client(redis_app.test_client(), host=shop.host)
    tee = shop.variants["Linen Tee"]
    assert client.flask.post("/cart/add", data={"variant_id": tee}, headers={"Host": shop.host}).status_code == 303
    embedded.stop_redis(redis_app.redis_data)
    refused = client.flask.post("/cart/add", data={"variant_id": tee}, headers={"Host": shop.host})
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    assert levels(app, shop, tee) == (5, 1)  # nothing more was held
    assert client.get("/cart").status_code == 503
    assert client.get(f"/products/{shop.handles['Linen Tee']}").status_code == 200  # browsing goes on


def test_the_merchant_marks_a_flash_sale_and_the_gate_answers_sold_out_without_a_query(app, merchant):
    from app.catalog.models import Variant as VariantRow
    from tests.conftest import Client

    browser, _account, store = merchant
    shop = make_shop(app, lambda **_: store, {"Drop Lamp": 2})
    variant_id = shop.variants["Drop Lamp"]
    with as_store(app, store):
        product_id = db.session.scalar(sa.select(VariantRow.product_id).where(VariantRow.id == variant_id))
    editor = f"/dashboard/{store.handle}/products/{product_id}"
    url = f"{editor}/variants/{variant_id}/flash-sale"
    assert browser.post(url, {"flash_sale": "on"}, csrf_from=editor).status_code == 302
    assert 'aria-pressed="true">Flash sale' in browser.get(editor).get_data(as_text=True)
    shopper = Client(app.test_client(), host=shop.host)
    assert add(shopper, variant_id, 2).status_code == 303
    with sql_statements() as statements:
        refused = shopper.flask.post("/api/v1/cart/items", json={"variant_id": variant_id, "quantity": 1},
                                     headers={"Host": shop.host})  # sold out: the gate answers
    assert refused.status_code == 409 and "sold out" in refused.json["error"]["message"]
    assert not [s for s in statements if "variants" in s or "inventory_levels" in s or "reservations" in s]
    assert levels(app, shop, variant_id) == (2, 2)
    # a bad mark is refused and changes nothing
    assert browser.post(f"{editor}/variants/999999/flash-sale", {"flash_sale": "on"},
                        csrf_from=editor).status_code == 422
    assert browser.post(url, {}, csrf_from=editor).status_code == 302  # unticked: off
    with as_store(app, store):
        assert db.session.scalar(sa.select(VariantRow.flash_sale).where(VariantRow.id == variant_id)) is False
