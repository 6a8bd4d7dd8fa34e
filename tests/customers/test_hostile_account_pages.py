"""The account and wishlist routes walked with hostile input, on a shop with
a published theme (the general walk, tests/test_hostile_walk.py, meets them
only as 404s: its store has no theme) and as a logged-in customer: no 5xx,
and a refused request (4xx) changes no row of the store."""
from __future__ import annotations

import pytest

from tests.customers.helpers import make_shop, rows, shopper
from tests.test_hostile_walk import HOSTILE, HOSTILE_ALL, HUGE, Walk

FORMS = {
    "/account/register": {"email": "walker@example.com", "name": "Walker", "password": "plum-kettle-orbit-42"},
    "/account/login": {"email": "ada@example.com", "password": "wrong-password-here", "next": "/account"},
    "/account/reset": {"email": "ada@example.com"},
    "/account/addresses": {"name": "Ada", "line1": "1 Main St", "line2": "", "city": "Leeds", "region": "",
                           "postal_code": "LS1", "country": "GB", "phone": "", "default": "on"},
}


class ShopWalk(Walk):
    """The walk's requests with CSRF tokens from the shop's own pages (its session is per host)."""

    def post(self, path, host, data, files=None, csrf=True):
        if csrf and not self.token:
            self.token = self.browser.csrf_token("/account/reset", host=host)
        super().post(path, host, data, files, csrf)


@pytest.fixture
def world(app, make_store):
    shop = make_shop(app, make_store)
    other = shopper(app, shop, "other@example.com")
    other.post("/account/addresses", FORMS["/account/addresses"], csrf_from="/account/addresses")
    client = shopper(app, shop, "ada@example.com")
    client.post("/account/addresses", FORMS["/account/addresses"], csrf_from="/account/addresses")
    client.post(f"/wishlist/{shop.handles['Linen Tee']}", csrf_from="/account/wishlist")
    mine, theirs = (row[0] for row in rows(app, shop, "SELECT a.id FROM customer_addresses a JOIN customers c "
                                                      "ON c.id = a.customer_id ORDER BY c.email"))
    return shop, client, mine, theirs


def _walk(app, shop, client) -> ShopWalk:
    world = type("World", (), {"store": shop.store})()
    return ShopWalk(app, world, client)


def test_account_pages_answer_hostile_parameters_without_a_5xx(app, world):
    shop, client, mine, theirs = world
    walk = _walk(app, shop, client)
    pages = ["/account", "/account/orders", "/account/addresses", "/account/wishlist", "/account/login",
             "/account/register", "/account/reset", "/account/reset/" + "a" * 43, "/account/reset/%00",
             "/account/reset/" + "x" * 300]
    for path in pages:
        walk.get(path, shop.host)
        for value in HOSTILE_ALL:
            walk.get(path, shop.host, {"next": value, "page": value, "q": value})
        walk.get(path, shop.host, {"next": ["/account"] * HUGE})
    walk.done()


def test_account_forms_refuse_hostile_fields_cleanly(app, world):
    shop, client, mine, theirs = world
    walk = _walk(app, shop, client)
    posts = {**FORMS, f"/account/addresses/{mine}/default": {}, f"/account/addresses/{theirs}/delete": {},
             f"/account/addresses/{theirs}/default": {}, "/account/reset/" + "a" * 43: {"password": "x"},
             f"/wishlist/{shop.handles['Stoneware Mug']}": {"next": "/account/wishlist"},
             f"/wishlist/{shop.handles['Stoneware Mug']}/remove": {"next": "/account/wishlist"}}
    for path, fields in posts.items():
        for name in fields:
            for value in HOSTILE:
                walk.post(path, shop.host, {**fields, name: value})
            walk.post(path, shop.host, [(k, v) for k, v in fields.items() if k != name] + [(name, "1")] * HUGE)
        for value in HOSTILE_ALL:
            walk.post(path, shop.host, dict.fromkeys(fields or ["next"], value))
    for handle in ("0", "%00", "..%2F..%2Fetc", "x" * 300, "no-such-product"):
        walk.post(f"/wishlist/{handle}", shop.host, {})
        walk.post(f"/wishlist/{handle}/remove", shop.host, {})
    for address_id in ("0", "99999999999999999999", "²", "%00", str(theirs)):
        walk.post(f"/account/addresses/{address_id}/delete", shop.host, {})
    walk.done()
    assert len(rows(app, shop, "SELECT id FROM customer_addresses WHERE id = :id", id=theirs)) == 1


def test_account_posts_without_a_csrf_token_are_refused(app, world):
    shop, client, mine, _ = world
    walk = _walk(app, shop, client)
    for path in [*FORMS, "/account/logout", f"/account/addresses/{mine}/delete", f"/account/addresses/{mine}/default",
                 f"/wishlist/{shop.handles['Stoneware Mug']}", f"/wishlist/{shop.handles['Linen Tee']}/remove"]:
        response = client.flask.post(path, data=FORMS.get(path, {}), headers={"Host": shop.host})
        assert response.status_code == 400, path
        walk.check(response, f"POST {path} without a CSRF token")
    walk.done()
    assert client.get("/account").status_code == 200  # still logged in: the refused log-out did nothing
