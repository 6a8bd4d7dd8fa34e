"""The storefront checkout as plain forms (no JavaScript): each step keeps
what the shopper chose, bad input is a 422 that keeps nothing, a card
without the page's script cannot be sent, a manual payment places the
order, and a customer's saved addresses fill the first step."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.checkout import shipping
from app.extensions import db
from app.orders.models import Order
from tests.cart.helpers import add, levels, make_shop
from tests.conftest import Client, as_store

ACTOR = "owner@example.com"
ADDRESS = {"name": "Ada Shopper", "line1": "1 Market St", "city": "San Francisco", "region": "CA",
           "postal_code": "94105", "country": "US"}


@pytest.fixture
def shop(app, make_store):
    shop = make_shop(app, make_store, {"Linen Tee": 5})
    with as_store(app, shop.store):
        zone = shipping.create_zone(MultiDict({"name": "Home", "places": "US"}), actor=ACTOR)
        shipping.create_rate(zone.id, MultiDict({"name": "Parcel", "kind": "flat", "price": "5.00"}), actor=ACTOR)
    return shop


def _orders(app, shop) -> list[tuple]:
    with as_store(app, shop.store):
        return [tuple(row) for row in db.session.execute(sa.select(Order.status, Order.payment_status, Order.total))]


def _rate_id(page: str) -> str:
    return re.search(r'name="shipping_option" value="(\d+)"', page).group(1)


def test_the_steps_without_javascript_place_a_manual_payment_order(app, shop):
    shopper = Client(app.test_client(), host=shop.host)
    assert shopper.get("/checkout").status_code == 303  # an empty cart goes back to the cart
    add(shopper, shop.variants["Linen Tee"], 2)

    contact = shopper.post("/checkout/contact", {"email": "ada@example.com", **ADDRESS}, csrf_from="/checkout")
    assert contact.status_code == 303 and contact.headers["Location"].endswith("/checkout/shipping")
    page = shopper.get("/checkout/shipping").get_data(as_text=True)
    assert "Parcel — $5.00" in page
    chosen = shopper.post("/checkout/shipping", {"shipping_option": _rate_id(page), "discount_code": ""},
                          csrf_from="/checkout/shipping")
    assert chosen.status_code == 303
    review = shopper.get("/checkout/payment").get_data(as_text=True)
    assert "$45.00" in review and "Pay $45.00" in review
    key = re.search(r'name="idempotency_key" value="([^"]+)"', review).group(1)

    no_script = shopper.post("/checkout/pay", {"idempotency_key": key, "payment": "card", "payment_method": ""},
                             csrf_from="/checkout/payment")
    assert no_script.status_code == 422 and "need JavaScript" in no_script.get_data(as_text=True)
    assert _orders(app, shop) == []

    placed = shopper.post("/checkout/pay", {"idempotency_key": key, "payment": "manual"},
                          csrf_from="/checkout/payment")
    assert placed.status_code == 303 and "/orders/" in placed.headers["Location"]
    assert _orders(app, shop) == [("confirmed", "awaiting", 4500)]
    assert levels(app, shop, shop.variants["Linen Tee"]) == (3, 0)
    order_page = shopper.get(placed.headers["Location"]).get_data(as_text=True)
    assert "Order #1001" in order_page and "waiting for your payment" in order_page


@pytest.mark.parametrize("form, field", [
    ({"email": "not-an-email", **ADDRESS}, "email"),
    ({"email": "ada@example.com", **ADDRESS, "country": "XX"}, "country"),
    ({"email": "ada@example.com", **ADDRESS, "line1": ""}, "line1"),
    ({"email": "ada@example.com", **ADDRESS, "city": "x" * 500}, "city"),
])
def test_a_bad_address_is_a_422_that_keeps_nothing(app, shop, form, field):
    shopper = Client(app.test_client(), host=shop.host)
    add(shopper, shop.variants["Linen Tee"])
    refused = shopper.post("/checkout/contact", form, csrf_from="/checkout")
    assert refused.status_code == 422 and f'id="error-{field}"' in refused.get_data(as_text=True)
    assert shopper.get("/checkout/shipping").status_code == 303  # no address kept: back to the first step


def test_a_shipping_method_of_no_zone_is_refused(app, shop):
    shopper = Client(app.test_client(), host=shop.host)
    add(shopper, shop.variants["Linen Tee"])
    shopper.post("/checkout/contact", {"email": "ada@example.com", **ADDRESS, "country": "FR"}, csrf_from="/checkout")
    page = shopper.get("/checkout/shipping").get_data(as_text=True)
    assert "does not ship to FR" in page
    refused = shopper.post("/checkout/shipping", {"shipping_option": "1"}, csrf_from="/checkout/shipping")
    assert refused.status_code == 422
    assert shopper.get("/checkout/payment").status_code == 303  # nothing chosen: back to the start


def test_a_customers_saved_addresses_fill_the_first_step_and_only_theirs(app, shop):
    from app.customers import addresses, service as customers

    with as_store(app, shop.store):
        ada = customers.register(name="Ada", email="ada@example.com", password="plum-kettle-orbit-42",
                                 address="127.0.0.1")
        full = {**ADDRESS, "line2": "", "phone": ""}
        home = addresses.add_address(ada, full, make_default=True)
        work = addresses.add_address(ada, {**full, "line1": "9 Work Way"})
        bob = customers.register(name="Bob", email="bob@example.com", password="plum-kettle-orbit-42",
                                 address="127.0.0.1")
        bobs = addresses.add_address(bob, {**full, "line1": "5 Bob Blvd"})
        home_id, work_id, bobs_id = home.id, work.id, bobs.id
    shopper = Client(app.test_client(), host=shop.host)
    shopper.post("/account/login", {"email": "ada@example.com", "password": "plum-kettle-orbit-42"},
                 csrf_from="/account/login")
    add(shopper, shop.variants["Linen Tee"])
    first = shopper.get("/checkout").get_data(as_text=True)
    assert 'value="1 Market St"' in first and f"?address={work_id}" in first and f"?address={home_id}" in first
    assert 'value="9 Work Way"' in shopper.get(f"/checkout?address={work_id}").get_data(as_text=True)
    assert "5 Bob Blvd" not in shopper.get(f"/checkout?address={bobs_id}").get_data(as_text=True)
    assert shopper.get("/checkout?address=" + "9" * 5000).status_code == 200
