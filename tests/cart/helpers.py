"""A shop with stock to sell, shoppers' browsers on it, and what the
database says is reserved."""
from __future__ import annotations

import re
from types import SimpleNamespace

import sqlalchemy as sa

from app.catalog import products as catalog
from app.catalog.models import Variant
from app.extensions import db
from app.inventory import service as inventory
from app.theming import service as theming
from app.theming.registry import get_theme
from tests.conftest import Client, as_store, store_host

ACTOR = "owner@example.com"


def tenant_sql(statement, params: dict | None = None):
    """Raw SQL on the current store's tenant schema, as the app role (row-level security on)."""
    from tenants.session import tenant_engine

    return db.session.execute(statement, params or {}, bind_arguments={"bind": tenant_engine(db)})


def make_shop(app, make_store, stock: dict[str, int] | None = None, *, theme: str = "atelier"):
    """A store with a published theme and one-variant products titled by `stock`'s keys, each with that
    many units at the store's default location."""
    stock = stock if stock is not None else {"Linen Tee": 5, "Stoneware Mug": 3}
    store = make_store()
    with as_store(app, store):
        location = inventory.locations()[0].id if inventory.locations() else inventory.ensure_default_location().id
        variants, handles = {}, {}
        for title, units in stock.items():
            product = catalog.create_product({"title": title, "price": "20.00", "status": "active"}, actor=ACTOR)
            variant_id = db.session.scalar(sa.select(Variant.id).where(Variant.product_id == product.id))
            inventory.set_on_hand(variant_id, location, units, reason="received", actor=ACTOR)
            variants[title], handles[title] = variant_id, product.handle
        theming.publish(get_theme(theme), actor=ACTOR)
    return SimpleNamespace(store=store, host=store_host(app, store), variants=variants, handles=handles,
                           location=location)


def browser(app, shop) -> Client:
    return Client(app.test_client(), host=shop.host)


def add(client: Client, variant_id, quantity="1", *, htmx: bool = False, **headers):
    data = {"variant_id": str(variant_id), "quantity": str(quantity)}
    if htmx:
        headers["HX-Request"] = "true"
    return client.flask.post("/cart/add", data=data, headers={"Host": client.host, **headers})


def change(client: Client, variant_id, quantity, *, htmx: bool = False):
    headers = {"Host": client.host, **({"HX-Request": "true"} if htmx else {})}
    return client.flask.post(f"/cart/lines/{variant_id}", data={"quantity": str(quantity)}, headers=headers)


def levels(app, shop, variant_id: int) -> tuple[int, int]:
    """(on_hand, reserved) summed over the variant's locations."""
    with as_store(app, shop.store):
        row = tenant_sql(sa.text(
            "SELECT coalesce(sum(on_hand), 0), coalesce(sum(reserved), 0) FROM inventory_levels "
            "WHERE variant_id = :v"), {"v": variant_id}).one()
        return int(row[0]), int(row[1])


def held(app, shop, variant_id: int) -> int:
    """Units in reservation rows for the variant (any holder)."""
    with as_store(app, shop.store):
        return int(tenant_sql(sa.text(
            "SELECT coalesce(sum(quantity), 0) FROM reservations WHERE variant_id = :v"), {"v": variant_id}).scalar())


def cart_lines(page: str) -> dict[str, str]:
    """{line id: quantity} as the cart page shows them."""
    return dict(re.findall(r'id="quantity-(\d+)" name="quantity" type="number" inputmode="numeric" min="0" '
                           r'max="100" value="(\d+)"', page))
