"""Shared by the checkout tests: the pricing tables' rows, to prove a refusal changed nothing."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from tenants.session import tenant_engine
from tests.conftest import as_store

ACTOR = "owner@example.com"
TABLES = ("shipping_zones", "shipping_zone_places", "shipping_rates", "tax_rates", "discounts", "discount_redemptions",
          "store_settings", "activity_events")


def pricing_rows(app, store) -> dict[str, list[str]]:
    with as_store(app, store):
        return {table: db.session.execute(sa.text(f"SELECT t::text FROM {table} t ORDER BY t.id"),
                                          bind_arguments={"bind": tenant_engine(db)}).scalars().all()
                for table in TABLES}


def refused_unchanged(app, store, browser, path: str, data: dict, status: int = 422, page: str | None = None) -> str:
    """POST `data` to `path` (its CSRF token read off `page`, default `path`); asserts the status and
    that no pricing row (or timeline entry) changed."""
    before = pricing_rows(app, store)
    response = browser.post(path, data, csrf_from=page or path)
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:2000]
    assert pricing_rows(app, store) == before
    return body


def add_pricing_rules(actor: str) -> tuple[int, int, int, int]:
    """In the current store: a shipping zone with a weight rate, a tax rate and a discount code; their ids."""
    from werkzeug.datastructures import MultiDict

    from app.checkout import discounts, shipping, taxes

    zone = shipping.create_zone(MultiDict({"name": "Home", "places": "US CA"}), actor=actor)
    rate = shipping.create_rate(zone.id, MultiDict({"name": "Parcel", "kind": "weight", "bracket_min": "0",
                                                    "bracket_max": "1000", "bracket_price": "4.00"}), actor=actor)
    tax = taxes.create_rate(MultiDict({"place": "US-NY", "name": "Sales tax", "rate": "8.88"}), actor=actor)
    code = discounts.create(MultiDict({"code": "WALK10", "kind": "percentage", "value": "10", "active": "on"}),
                            actor=actor)
    return zone.id, rate.id, tax.id, code.id


# -- placing real orders through the API, against the Stripe emulator (tests/checkout, tests/orders) ------------------

ADDRESS = {"name": "Ada Shopper", "line1": "1 Market St", "city": "San Francisco", "region": "CA",
           "postal_code": "94105", "country": "US"}


def shop_with_rate(app, make_store, stock: dict[str, int] | None = None):
    """A shop (tests/cart/helpers.make_shop) that ships to the US at a flat 5.00; its rate id in `rate`."""
    from werkzeug.datastructures import MultiDict

    from app.checkout import shipping
    from tests.cart.helpers import make_shop

    shop = make_shop(app, make_store, stock or {"Linen Tee": 5, "Stoneware Mug": 3})
    with as_store(app, shop.store):
        zone = shipping.create_zone(MultiDict({"name": "Home", "places": "US"}), actor=ACTOR)
        rate = shipping.create_rate(zone.id, MultiDict({"name": "Parcel", "kind": "flat", "price": "5.00"}),
                                    actor=ACTOR).id
    shop.rate = str(rate)
    return shop


class Shopper:
    """A shopper on the JSON API (its cart token kept between calls)."""

    def __init__(self, app, shop):
        self.flask, self.shop, self.token = app.test_client(use_cookies=False), shop, None

    def call(self, method: str, path: str, json=None, **headers):
        if self.token:
            headers.setdefault("X-Cart-Token", self.token)
        response = self.flask.open(f"/api/v1{path}", method=method, json=json,
                                   headers={"Host": self.shop.host, **headers})
        self.token = response.headers.get("X-Cart-Token", self.token)
        return response

    def add(self, title: str, quantity: int = 1):
        response = self.call("POST", "/cart/items", {"variant_id": self.shop.variants[title], "quantity": quantity})
        assert response.status_code == 201, response.json
        return response

    def checkout(self, key: str | None = None, *, card: str | None = "pm_card_visa", **changes):
        body = {"email": "ada@example.com", "shipping_address": ADDRESS, "shipping_method": self.shop.rate,
                "payment_method": {"type": "card", "id": card} if card else {"type": "manual"}, **changes}
        return self.call("POST", "/checkout", body, **({"Idempotency-Key": key} if key else {}))

    def order(self, items: dict[str, int], *, card: str | None = "pm_card_visa", **changes) -> dict:
        """Add `items` (title -> units) and check out: the confirmed order's JSON."""
        import uuid

        for title, units in items.items():
            self.add(title, units)
        placed = self.checkout(str(uuid.uuid4()), card=card, **changes)
        assert placed.status_code == 201, placed.json
        return placed.json["order"]


def orders_of(app, shop) -> list[tuple]:
    from app.orders.models import Order

    with as_store(app, shop.store):
        return [tuple(row) for row in db.session.execute(
            sa.select(Order.status, Order.payment_status, Order.number, Order.total).order_by(Order.id))]


def emulator_url(app) -> str:
    from flask import current_app

    with app.app_context():
        return current_app.config["STRIPE_API_BASE"]


def stats(app) -> dict:
    import requests

    return requests.get(f"{emulator_url(app)}/_emulator/stats", timeout=5).json()


def captures_of(app, intent_id: str) -> int:
    """How many times the PSP captured this payment: its `charge.captured` events,
    whatever other stores' captures happened meanwhile."""
    import requests
    from flask import current_app

    with app.app_context():
        key = current_app.config["STRIPE_SECRET_KEY"]
    count, params = 0, {"type": "charge.captured", "limit": 100}
    while True:
        listed = requests.get(f"{emulator_url(app)}/v1/events", params=params, timeout=5,
                              headers={"Authorization": f"Bearer {key}"}).json()
        count += sum(1 for event in listed["data"] if event["data"]["object"]["payment_intent"] == intent_id)
        if not listed["has_more"]:
            return count
        params["starting_after"] = listed["data"][-1]["id"]


def intent(app, intent_id: str) -> dict:
    import requests
    from flask import current_app

    with app.app_context():
        key = current_app.config["STRIPE_SECRET_KEY"]
    return requests.get(f"{emulator_url(app)}/v1/payment_intents/{intent_id}", timeout=5,
                        headers={"Authorization": f"Bearer {key}"}).json()


def refunds_of_intent(app, intent_id: str) -> list[dict]:
    import requests
    from flask import current_app

    with app.app_context():
        key = current_app.config["STRIPE_SECRET_KEY"]
    return requests.get(f"{emulator_url(app)}/v1/refunds", params={"payment_intent": intent_id}, timeout=5,
                        headers={"Authorization": f"Bearer {key}"}).json()["data"]


def payment_intent_of(app, shop, token: str) -> str:
    from app.orders.models import Order
    from app.payments.models import Payment

    with as_store(app, shop.store):
        order_id = db.session.scalar(sa.select(Order.id).where(Order.token == token))
        return db.session.scalar(sa.select(Payment.intent_id).where(Payment.order_id == order_id))
