"""The Orders pages of the dashboard: the list with its filters and pages,
the CSV export, an order's page and its actions, and their refusals."""
from __future__ import annotations

import csv
import io
import uuid

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.orders.models import Order
from tenants.models import Membership
from tests.cart.helpers import levels
from tests.checkout.helpers import intent, payment_intent_of, refunds_of_intent, shop_with_rate, stats
from tests.conftest import Client, as_store, run_effects
from tests.orders.helpers import line_ids, order_id, place, rows, state


@pytest.fixture
def shop(app, make_store, make_account):
    owner = make_account("Owner")
    shop = shop_with_rate(app, lambda: make_store(owner=owner))
    shop.owner = owner
    shop.browser = Client(app.test_client())
    shop.browser.login(owner.email)
    shop.dash = f"/dashboard/{shop.store.handle}"
    return shop


def _page(shop, token) -> str:
    return f"{shop.dash}/orders/{order_id_of(shop, token)}"


def order_id_of(shop, token):
    return order_id(shop.app, shop, token)


@pytest.fixture(autouse=True)
def _app_on_shop(app, shop):
    shop.app = app


def _post(shop, path, data, page=None):
    return shop.browser.post(path, data, csrf_from=page or path.rsplit("/", 1)[0])


def _refused(app, shop, path, data, status=422, page=None) -> str:
    before = rows(app, shop.store)
    response = _post(shop, path, data, page)
    body = response.get_data(as_text=True)
    assert response.status_code == status, body[:3000]
    assert rows(app, shop.store) == before
    return body


def test_the_list_filters_searches_and_pages(app, shop):
    first = place(app, shop, {"Linen Tee": 1}, email="first@example.com")
    second = place(app, shop, {"Stoneware Mug": 1}, card=None, email="second@example.com")
    listing = shop.browser.get(f"{shop.dash}/orders").get_data(as_text=True)
    assert listing.index(f">{second['name']}</a>") < listing.index(f">{first['name']}</a>")  # newest first
    assert "2 orders" in listing
    only = shop.browser.get(f"{shop.dash}/orders?payment_status=awaiting").get_data(as_text=True)
    assert f">{second['name']}<" in only and f">{first['name']}<" not in only
    for q in (first["name"], str(first["number"]), "FIRST@example"):
        found = shop.browser.get(f"{shop.dash}/orders", query_string={"q": q}).get_data(as_text=True)
        assert f">{first['name']}<" in found and f">{second['name']}<" not in found, q
    partial = shop.browser.get(f"{shop.dash}/orders?status=confirmed", headers={"HX-Target": "order-results"})
    assert partial.get_data(as_text=True).lstrip().startswith('<section id="order-results"')
    none = shop.browser.get(f"{shop.dash}/orders?date_to=2001-01-01").get_data(as_text=True)
    assert "No orders match." in none
    today = shop.browser.get(f"{shop.dash}/orders?date_from=2001-01-01").get_data(as_text=True)
    assert f">{first['name']}<" in today
    for bad in ("status=shipped", "date_from=2024-13-01", "date_to=yesterday", "page=0", "q=%00",
                "status=confirmed&status=cancelled"):
        assert shop.browser.get(f"{shop.dash}/orders?{bad}").status_code == 400, bad


def test_the_csv_export_is_filtered_and_formula_safe(app, shop):
    place(app, shop, {"Linen Tee": 1}, email="=cmd@example.com")
    place(app, shop, {"Linen Tee": 1}, email="plain@example.com", card=None)
    response = shop.browser.get(f"{shop.dash}/orders/export.csv?payment_status=authorized")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0][:3] == ["Order", "Created (UTC)", "Email"]
    assert len(table) == 2 and table[1][2] == "'=cmd@example.com" and table[1][11] == "25.00"


def test_fulfil_refund_and_notes_from_the_order_page(app, shop):
    order = place(app, shop, {"Linen Tee": 2})
    page = _page(shop, order["token"])
    shown = shop.browser.get(page).get_data(as_text=True)
    assert order["name"] in shown and "Fulfil" in shown and payment_intent_of(app, shop, order["token"]) in shown
    line = line_ids(app, shop, order["token"])["Linen Tee"]
    done = _post(shop, f"{page}/fulfil", {f"units_{line}": "2", "carrier": "DHL", "tracking_number": "JD01",
                                          "tracking_url": "https://dhl.example/track/JD01", "notify": "on"}, page)
    assert done.status_code == 303, done.get_data(as_text=True)[:2000]
    with as_store(app, shop.store):
        run_effects("payments")
    assert state(app, shop, order["token"]) == ("fulfilled", "paid", "fulfilled")
    shown = shop.browser.get(page).get_data(as_text=True)
    assert 'href="https://dhl.example/track/JD01"' in shown

    key = str(uuid.uuid4())
    form = {"amount": "10.00", "reason": "Late", "key": key, "restock": "off"}
    before = stats(app)
    assert _post(shop, f"{page}/refund", form, page).status_code == 303
    assert _post(shop, f"{page}/refund", form, page).status_code == 303  # the same form sent twice
    assert stats(app)["refunds"] - before["refunds"] == 1
    assert [r["amount"] for r in refunds_of_intent(app, payment_intent_of(app, shop, order["token"]))] == [1000]
    assert state(app, shop, order["token"])[1] == "partially_refunded"

    assert _post(shop, f"{page}/notes", {"note": "Called the customer."}, page).status_code == 303
    assert "Called the customer." in shop.browser.get(page).get_data(as_text=True)


@pytest.mark.parametrize("action, data, message", [
    ("refund", {"amount": "99999.00", "reason": ""}, "Refund an amount from"),
    ("refund", {"amount": "-5", "reason": ""}, "cannot be negative"),
    ("refund", {"amount": "99999999999999999999", "reason": ""}, "largest amount"),
    ("refund", {"amount": "", "reason": ""}, "Enter the amount"),
    ("refund", {"amount": "1\x00", "reason": ""}, "control character"),
    ("notes", {"note": "a\x00b"}, "control character"),
    ("refund", {"amount": "5.00", "units_99999999": "1"}, "not on this order"),
    ("fulfil", {"units_LINE": "3"}, "ship from 0 to 2"),
    ("fulfil", {"units_LINE": "99999999999999999999"}, "between"),
    ("fulfil", {"units_LINE": "-1"}, "whole number"),
    ("fulfil", {"units_LINE": "1", "tracking_url": "javascript:alert(1)"}, "web address"),
    ("fulfil", {"units_LINE": "1", "carrier": "x" * 81}, "at most 80"),
    ("notes", {"note": ""}, "Write the note"),
    ("notes", {"note": "x" * 2001}, "at most 2000"),
    ("cancel", {"reason": "x" * 501}, "at most 500"),
])
def test_bad_input_is_refused_with_its_message_and_changes_nothing(app, shop, action, data, message):
    order = place(app, shop, {"Linen Tee": 2})
    page = _page(shop, order["token"])
    if action == "refund":  # something captured to refund from
        line = line_ids(app, shop, order["token"])["Linen Tee"]
        assert _post(shop, f"{page}/fulfil", {f"units_{line}": "2"}, page).status_code == 303
        with as_store(app, shop.store):
            run_effects("payments")
        data = {**data, "key": str(uuid.uuid4())}
    line = line_ids(app, shop, order["token"])["Linen Tee"]
    data = {name.replace("LINE", str(line)): value for name, value in data.items()}
    nul = any("\x00" in value for value in data.values())
    body = _refused(app, shop, f"{page}/{action}", data, 400 if nul else 422, page)
    assert message in body


def test_illegal_moves_are_409_and_change_nothing(app, shop):
    order = place(app, shop, {"Linen Tee": 1})
    page = _page(shop, order["token"])
    _refused(app, shop, f"{page}/deliver", {}, 409, page)
    _refused(app, shop, f"{page}/paid", {}, 409, page)
    _refused(app, shop, f"{page}/refund", {"amount": "1.00", "key": "k"}, 409, page)  # not captured yet
    assert _post(shop, f"{page}/cancel", {"restock": "on", "reason": "Asked to"}, page).status_code == 303
    assert levels(app, shop, shop.variants["Linen Tee"]) == (5, 0)
    assert intent(app, payment_intent_of(app, shop, order["token"]))["status"] == "canceled"
    body = _refused(app, shop, f"{page}/fulfil", {}, 409, page)
    assert "only a confirmed order can be fulfilled" in body
    _refused(app, shop, f"{page}/cancel", {"restock": "on"}, 409, page)


def test_another_stores_order_is_a_404(app, shop, make_store):
    other = shop_with_rate(app, make_store)
    theirs = place(app, other, {"Linen Tee": 1})
    their_id = order_id(app, other, theirs["token"])
    page = f"{shop.dash}/orders/{their_id}"
    with as_store(app, shop.store):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.id == their_id)) == 0
    assert shop.browser.get(page).status_code == 404
    before = rows(app, other.store)
    own = place(app, shop, {"Linen Tee": 1})
    for action in ("fulfil", "cancel", "refund", "deliver", "paid", "notes"):
        response = _post(shop, f"{page}/{action}", {"note": "x", "amount": "1.00", "key": "k"},
                         _page(shop, own["token"]))
        assert response.status_code == 404, action
    assert rows(app, other.store) == before


def test_staff_fulfil_but_cannot_refund_or_cancel(app, shop, make_account):
    helper = make_account("Helper")
    with app.app_context():
        db.session.add(Membership(account_id=helper.id, store_id=shop.store.id, role="staff"))
        db.session.commit()
        db.session.remove()
    staff = Client(app.test_client())
    staff.login(helper.email)
    order = place(app, shop, {"Linen Tee": 1})
    page = _page(shop, order["token"])
    shown = staff.get(page).get_data(as_text=True)
    assert "Fulfil" in shown and 'id="refund"' not in shown and 'id="cancel"' not in shown
    before = rows(app, shop.store)
    for action in ("cancel", "refund", "paid"):
        assert staff.post(f"{page}/{action}", {"amount": "1.00", "key": "k"}, csrf_from=page).status_code == 403
    assert rows(app, shop.store) == before
    assert staff.post(f"{page}/fulfil", {}, csrf_from=page).status_code == 303
    assert state(app, shop, order["token"])[0] == "fulfilled"


def test_the_home_page_shows_sales_and_conversion(app, shop):
    place(app, shop, {"Linen Tee": 1})
    place(app, shop, {"Stoneware Mug": 2}, card=None)
    home = shop.browser.get(f"{shop.dash}/").get_data(as_text=True)
    assert 'data-kpi="orders">2<' in home
    assert 'data-kpi="sales">$70.00<' in home and 'data-kpi="average">$35.00<' in home
    assert 'data-kpi="conversion">100.0%<' in home  # two carts held stock, two orders
    assert "chart-h-20" in home and "style=" not in home.split('id="sales"')[1].split("</section>")[0]


def test_the_settings_page_sets_when_payments_are_captured(app, shop):
    from app.store import service as store_service

    path = f"{shop.dash}/settings"
    form = {"name": "Test Store", "currency": "USD", "locale": "en_US", "contact_email": "",
            "coming_soon_message": "Soon", "reservation_minutes": "15"}
    assert 'name="capture"' in shop.browser.get(path).get_data(as_text=True)
    refused = shop.browser.post(path, {**form, "capture": "whenever"}, csrf_from=path)
    assert refused.status_code == 422 and "Choose when card payments are captured" in refused.get_data(as_text=True)
    with as_store(app, shop.store):
        assert store_service.get_settings()["capture"] == "on_fulfilment"
    assert shop.browser.post(path, {**form, "capture": "immediately"}, csrf_from=path).status_code in (302, 303)
    with as_store(app, shop.store):
        assert store_service.get_settings()["capture"] == "immediately"
