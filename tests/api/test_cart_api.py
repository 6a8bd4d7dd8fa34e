"""/api/v1/cart: read, add (201), change, remove; the token in a header;
shortages are 409s naming the line; bad input is a 4xx that changes nothing."""
from __future__ import annotations

import pytest

from tests.cart.helpers import levels, make_shop


@pytest.fixture
def shop(app, make_store):
    return make_shop(app, make_store)


class Api:
    def __init__(self, app, shop):
        self.flask, self.host, self.token = app.test_client(use_cookies=False), shop.host, None

    def call(self, method: str, path: str, json=None, **headers):
        if self.token:
            headers.setdefault("X-Cart-Token", self.token)
        response = self.flask.open(f"/api/v1{path}", method=method, json=json, headers={"Host": self.host, **headers})
        self.token = response.headers.get("X-Cart-Token", self.token)
        return response


def test_a_cart_through_the_api(app, shop):
    api = Api(app, shop)
    tee, mug = shop.variants["Linen Tee"], shop.variants["Stoneware Mug"]
    empty = api.call("GET", "/cart")
    assert empty.status_code == 200 and empty.json["cart"]["lines"] == [] and empty.json["cart"]["token"] is None

    added = api.call("POST", "/cart/items", {"variant_id": tee, "quantity": 2})
    assert added.status_code == 201
    cart = added.json["cart"]
    assert cart["token"] and added.headers["X-Cart-Token"]
    assert cart["item_count"] == 2 and cart["subtotal"] == {"amount": 4000, "currency": shop.store.currency}
    [line] = cart["lines"]
    assert line["id"] == str(tee) and line["quantity"] == 2 and line["held_until"] and not line["price_changed"]

    api.call("POST", "/cart/items", {"variant_id": mug})
    changed = api.call("PATCH", f"/cart/items/{tee}", {"quantity": 1})
    assert changed.status_code == 200 and changed.json["cart"]["item_count"] == 2
    assert levels(app, shop, tee) == (5, 1)
    removed = api.call("DELETE", f"/cart/items/{mug}")
    assert removed.status_code == 200 and [line["id"] for line in removed.json["cart"]["lines"]] == [str(tee)]
    assert levels(app, shop, mug) == (3, 0)
    assert api.call("GET", "/cart").json["cart"]["item_count"] == 1
    emptied = api.call("DELETE", "/cart")
    assert emptied.status_code == 200 and emptied.json["cart"]["lines"] == []
    assert levels(app, shop, tee) == (5, 0)


def test_a_shortage_names_the_line_and_what_is_left(app, shop):
    api = Api(app, shop)
    mug = shop.variants["Stoneware Mug"]
    api.call("POST", "/cart/items", {"variant_id": mug, "quantity": 2})
    response = api.call("POST", "/cart/items", {"variant_id": mug, "quantity": 2})
    assert response.status_code == 409
    assert response.json["error"] | {"message": None} == {"code": "shortage", "message": None, "line": str(mug),
                                                          "variant_id": mug, "available": 3}
    assert levels(app, shop, mug) == (3, 2)


def test_a_refused_first_add_starts_no_cart_but_a_refused_later_one_keeps_it(app, shop):
    mug = shop.variants["Stoneware Mug"]
    newcomer = Api(app, shop)
    refused = newcomer.call("POST", "/cart/items", {"variant_id": mug, "quantity": 4})
    assert refused.status_code == 409 and "X-Cart-Token" not in refused.headers
    assert "Set-Cookie" not in refused.headers

    regular = Api(app, shop)
    regular.call("POST", "/cart/items", {"variant_id": mug, "quantity": 1})
    token = regular.token
    again = regular.call("POST", "/cart/items", {"variant_id": mug, "quantity": 3})
    assert again.status_code == 409 and again.headers["X-Cart-Token"]
    assert regular.call("GET", "/cart").json["cart"]["item_count"] == 1 and token


@pytest.mark.parametrize("body, status", [
    ({"variant_id": "1", "quantity": 1}, 400),
    ({"variant_id": True, "quantity": 1}, 400),
    ({"quantity": 1}, 400),
    ({"variant_id": 2**70, "quantity": 1}, 400),
    ({"variant_id": None, "quantity": 0}, 400),
    ({"variant_id": "VARIANT", "quantity": 1.5}, 400),
    ({"variant_id": "VARIANT", "quantity": 0}, 400),
    ({"variant_id": "VARIANT", "quantity": -3}, 400),
    ({"variant_id": "VARIANT", "quantity": 10**30}, 400),
    ({"variant_id": 9_999_999_999, "quantity": 1}, 404),
    (["not", "an", "object"], 400),
])
def test_bad_adds_are_4xx_and_change_nothing(app, shop, body, status):
    api = Api(app, shop)
    tee = shop.variants["Linen Tee"]
    if isinstance(body, dict):
        body = {key: tee if value == "VARIANT" else value for key, value in body.items()}
    response = api.call("POST", "/cart/items", body)
    assert response.status_code == status, response.json
    assert response.json["error"]["message"]
    assert levels(app, shop, tee) == (5, 0)


def test_writes_take_json_only(app, shop):
    api = Api(app, shop)
    response = api.flask.post("/api/v1/cart/items", data={"variant_id": shop.variants["Linen Tee"], "quantity": 1},
                              headers={"Host": shop.host})
    assert response.status_code == 415
    assert levels(app, shop, shop.variants["Linen Tee"]) == (5, 0)


def test_unknown_lines_and_tokens(app, make_store, shop):
    api = Api(app, shop)
    assert api.call("PATCH", "/cart/items/1", {"quantity": 1}).status_code == 404  # no cart yet
    api.call("POST", "/cart/items", {"variant_id": shop.variants["Linen Tee"]})
    for line in ("999", "abc", "0", "9" * 40):
        assert api.call("PATCH", f"/cart/items/{line}", {"quantity": 1}).status_code == 404, line
        assert api.call("DELETE", f"/cart/items/{line}").status_code == 404, line
    forged = api.call("GET", "/cart", **{"X-Cart-Token": "nope"})
    assert forged.status_code == 400 and forged.json["error"]["code"] == "invalid_cart_token"
    other = make_shop(app, make_store, {"Elsewhere Scarf": 1})
    elsewhere = Api(app, other)
    elsewhere.call("POST", "/cart/items", {"variant_id": other.variants["Elsewhere Scarf"]})
    assert api.call("GET", "/cart", **{"X-Cart-Token": elsewhere.token}).status_code == 400
