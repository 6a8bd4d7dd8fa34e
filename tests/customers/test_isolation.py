"""An account belongs to one store: its session counts for nothing at
another store (even were the cookie sent there), nor does a merchant's
dashboard log-in on a storefront; row-level security keeps the rows apart."""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import Client
from tests.customers.helpers import browser, make_shop, rows, shopper


@pytest.fixture
def shops(app, make_store):
    return make_shop(app, make_store), make_shop(app, make_store)


def email() -> str:
    return f"ada-{uuid.uuid4().hex[:8]}@example.com"


def carry_session(client: Client, from_host: str, to_host: str) -> None:
    """Send the session cookie of one host to another, as a shared cookie domain would."""
    cookie = client.flask.get_cookie("session", domain=from_host)
    assert cookie is not None
    client.flask.set_cookie("session", cookie.value, domain=to_host)


def test_an_account_of_one_store_is_nobody_at_another(app, shops):
    shop_a, shop_b = shops
    assert shop_a.store.schema == shop_b.store.schema  # one pooled schema: only the store id tells them apart
    client = shopper(app, shop_a, email())
    client.post(f"/wishlist/{shop_a.handles['Linen Tee']}", csrf_from="/account/wishlist")
    carry_session(client, shop_a.host, shop_b.host)
    on_b = client.get("/account", host=shop_b.host)
    assert on_b.status_code == 303 and on_b.headers["Location"].startswith("/account/login")
    product = client.get(f"/products/{shop_b.handles['Linen Tee']}", host=shop_b.host).get_data(as_text=True)
    assert "Log in to save for later" in product and ">Account</a>" not in product
    refused = client.flask.post(f"/wishlist/{shop_b.handles['Linen Tee']}", headers={"Host": shop_b.host},
                                data={"csrf_token": client.csrf_token("/account/login", host=shop_b.host)})
    assert refused.status_code == 303 and refused.headers["Location"].startswith("/account/login")
    assert rows(app, shop_b, "SELECT count(*) FROM wishlist_items")[0][0] == 0
    # and the session still works where it belongs
    assert client.get("/account", host=shop_a.host).status_code == 200


def test_row_level_security_hides_another_stores_customers(app, shops):
    shop_a, shop_b = shops
    address = email()
    shopper(app, shop_a, address)
    assert rows(app, shop_a, "SELECT count(*) FROM customers WHERE email = :e", e=address)[0][0] == 1
    assert rows(app, shop_b, "SELECT count(*) FROM customers WHERE email = :e", e=address)[0][0] == 0


def test_a_logged_in_merchant_is_anonymous_on_the_storefront(app, merchant, make_store):
    client, account, _ = merchant
    shop = make_shop(app, make_store)
    assert client.get("/account", host="localhost").status_code == 200  # the dashboard's own account page
    carry_session(client, "localhost", shop.host)
    on_shop = client.get("/account", host=shop.host)
    assert on_shop.status_code == 303 and on_shop.headers["Location"] == "/account/login?next=/account"
    page = client.get(f"/products/{shop.handles['Linen Tee']}", host=shop.host).get_data(as_text=True)
    assert "Log in to save for later" in page


def test_account_pages_are_404s_before_a_theme_is_published(app, make_store):
    shop = make_shop(app, make_store, theme=None)
    client = browser(app, shop)
    for path in ("/account", "/account/login", "/account/register", "/account/reset", "/account/wishlist",
                 "/account/reset/" + "a" * 43):
        assert client.get(path).status_code == 404, path
    response = client.flask.post("/account/register", headers={"Host": shop.host},
                                 data={"email": email(), "name": "Ada", "password": "plum-kettle-orbit-42"})
    assert response.status_code in (400, 404)  # no CSRF token to be had: the shop has no forms yet
    assert rows(app, shop, "SELECT count(*) FROM customers")[0][0] == 0


def test_the_platform_host_has_no_storefront_account_pages(app, client):
    assert client.get("/account/login").status_code == 404
    assert client.get("/account/wishlist").status_code == 404
