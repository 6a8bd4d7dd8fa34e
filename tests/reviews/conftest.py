"""A shop with a published theme and products, and shoppers logged in as its customers."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.catalog import collections
from app.catalog import products as catalog
from app.theming import service as theming
from app.theming.registry import get_theme
from tests.conftest import Client, as_store, store_host

ACTOR = "owner@example.com"


@pytest.fixture
def shop(app, make_store):
    """A store with the Atelier theme live, three active products (two in a collection) and a draft."""
    store = make_store()
    with as_store(app, store):
        kettle = catalog.create_product({"title": "Copper Kettle", "price": "60.00", "status": "active",
                                         "product_type": "Kitchen"}, actor=ACTOR)
        cup = catalog.create_product({"title": "Tea Cup", "price": "12.00", "status": "active",
                                      "product_type": "Kitchen"}, actor=ACTOR)
        towel = catalog.create_product({"title": "Linen Towel", "price": "15.00", "status": "active",
                                        "product_type": "Textiles"}, actor=ACTOR)
        draft = catalog.create_product({"title": "Secret Draft", "price": "9.00", "status": "draft",
                                        "product_type": "Kitchen"}, actor=ACTOR)
        tea_time = collections.create_collection({"title": "Tea time"}, kind="manual")
        collections.set_products(tea_time, [kettle.id, cup.id])
        theming.publish(get_theme("atelier"), actor=ACTOR)
        add_customers()
        ids = SimpleNamespace(kettle=kettle.id, cup=cup.id, towel=towel.id, draft=draft.id,
                              kettle_handle=kettle.handle, cup_handle=cup.handle, towel_handle=towel.handle,
                              collection=tea_time.handle)
    return SimpleNamespace(store=store, ids=ids, host=store_host(app, store))


CUSTOMER_IDS = [*range(1, 20), 50, 51, *range(60, 66), *range(100, 140), 998, 999]


def add_customers() -> None:
    """The store's customers the tests name by id (no password: they are logged in by session)."""
    from app.customers.models import Customer
    from app.extensions import db

    for n in CUSTOMER_IDS:
        db.session.add(Customer(id=n, email=f"customer{n}@example.com", name=f"Customer {n}", password_hash="!"))
    db.session.commit()


def shopper(app, shop, customer_id: int | None = None, store_id: int | None = None) -> Client:
    """A browser on the shop, logged in as customer `customer_id` (of `store_id`, by default the shop's)."""
    browser = Client(app.test_client(), host=shop.host)
    if customer_id is not None:
        with browser.flask.session_transaction(base_url=f"http://{shop.host}/") as session:
            session["customer"] = {"store": store_id or shop.store.id, "id": customer_id, "v": 1}
    return browser


def review_form(**fields) -> dict:
    return {"rating": "4", "author_name": "Robin", "title": "Lovely", "body": "Boils fast.", **fields}
