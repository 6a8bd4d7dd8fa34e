"""The API's answer to an add is built from what the add wrote when the cart
is new: it must be the cart that reading it afterwards shows, picture and
hold included; a cart with other lines is read as a view reads it."""
from __future__ import annotations

import io

import sqlalchemy as sa
from PIL import Image

from app.catalog.models import Product, Variant
from app.catalog.product_images import add_image
from app.extensions import db
from tests.cart.helpers import make_shop
from tests.conftest import as_store


def _picture(colour) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(out, "JPEG")
    return out.getvalue()


def _api(app, shop):
    client = app.test_client(use_cookies=False)

    def call(method, path, json=None, token=None):
        headers = {"Host": shop.host, **({"X-Cart-Token": token} if token else {})}
        return client.open(f"/api/v1{path}", method=method, json=json, headers=headers)
    return call


def _without_token(answer) -> dict:
    cart = dict(answer.json["cart"])
    cart.pop("token")
    return cart


def test_a_new_carts_add_answers_what_the_cart_then_shows(app, make_store):
    shop = make_shop(app, make_store, {"Linen Tee": 5, "Stoneware Mug": 3})
    tee, mug = shop.variants["Linen Tee"], shop.variants["Stoneware Mug"]
    with as_store(app, shop.store):
        product = db.session.get(Product, (shop.store.id, db.session.scalar(
            sa.select(Variant.product_id).where(Variant.id == tee))))
        add_image(product, _picture("red"), alt="Front")
        own = add_image(product, _picture("blue"), alt="Tee, blue")
        db.session.execute(sa.update(Variant).where(Variant.id == tee).values(image_id=own.id))
        db.session.commit()
        own_key = own.storage_key
    call = _api(app, shop)

    added = call("POST", "/cart/items", {"variant_id": tee, "quantity": 2})
    assert added.status_code == 201
    token = added.json["cart"]["token"]
    shown = call("GET", "/cart", token=token)
    assert _without_token(added) == _without_token(shown)
    [line] = added.json["cart"]["lines"]
    assert line["quantity"] == 2 and line["held_until"] and own_key in line["image"]  # the variant's own picture

    more = call("POST", "/cart/items", {"variant_id": mug}, token=token)
    assert more.status_code == 201
    assert _without_token(more) == _without_token(call("GET", "/cart", token=token))
    assert [line["variant_id"] for line in more.json["cart"]["lines"]] == [tee, mug]
    mug_line = more.json["cart"]["lines"][1]
    assert mug_line["image"] is None and mug_line["title"] == "Stoneware Mug"
