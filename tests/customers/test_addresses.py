"""The address book: add (errors per field, values kept), default, delete;
another customer's address is a 404 and stays as it is."""
from __future__ import annotations

import uuid

import pytest

from tests.customers.helpers import make_shop, rows, shopper

HOME = {"name": "Ada Lovelace", "line1": "12 St James's Square", "line2": "", "city": "London", "region": "",
        "postal_code": "SW1Y 4JH", "country": "GB", "phone": "+44 20 7946 0000"}
WORK = {**HOME, "line1": "1 Analytical Way", "city": "Manchester", "postal_code": "M1 1AA"}


@pytest.fixture
def shop(app, make_store):
    return make_shop(app, make_store)


def email() -> str:
    return f"ada-{uuid.uuid4().hex[:8]}@example.com"


def addresses_of(app, shop, address: str) -> list:
    return rows(app, shop, "SELECT a.id, a.line1, a.is_default FROM customer_addresses a JOIN customers c "
                           "ON c.id = a.customer_id WHERE c.email = :e ORDER BY a.id", e=address)


def add(client, fields: dict):
    return client.post("/account/addresses", fields, csrf_from="/account/addresses")


def test_add_addresses_choose_the_default_and_delete(app, shop):
    address = email()
    client = shopper(app, shop, address)
    assert add(client, HOME).status_code == 303
    assert add(client, WORK).status_code == 303
    (home_id, _, home_default), (work_id, _, work_default) = addresses_of(app, shop, address)
    assert home_default and not work_default  # the first one is the default
    page = client.get("/account/addresses").get_data(as_text=True)
    assert "12 St James" in page and "Manchester" in page and "United Kingdom" in page
    assert client.post(f"/account/addresses/{work_id}/default", csrf_from="/account/addresses").status_code == 303
    assert [row.is_default for row in addresses_of(app, shop, address)] == [False, True]
    overview = client.get("/account").get_data(as_text=True)
    assert "1 Analytical Way" in overview
    assert client.post(f"/account/addresses/{work_id}/delete", csrf_from="/account/addresses").status_code == 303
    assert [(row.id, row.is_default) for row in addresses_of(app, shop, address)] == [(home_id, True)]


def test_a_new_default_replaces_the_old_one(app, shop):
    address = email()
    client = shopper(app, shop, address)
    add(client, HOME)
    add(client, {**WORK, "default": "on"})
    assert [row.is_default for row in addresses_of(app, shop, address)] == [False, True]


@pytest.mark.parametrize("fields, errors", [
    ({"line1": "", "city": ""}, ["Address is required", "City is required"]),
    ({"country": "XX"}, ["Choose a country from the list"]),
    ({"country": ""}, ["Choose a country from the list"]),
    ({"postal_code": "9" * 50}, ["Postal code can be at most 20"]),
    ({"name": "x" * 20_000}, ["Full name can be at most 120"]),
])
def test_a_bad_address_is_refused_field_by_field_and_kept(app, shop, fields, errors):
    address = email()
    client = shopper(app, shop, address)
    response = add(client, {**HOME, **fields})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in errors:
        assert message in body
    assert 'class="form-errors"' in body
    assert 'value="+44 20 7946 0000"' in body  # the rest of what was typed stays
    assert addresses_of(app, shop, address) == []


def test_a_nul_byte_in_an_address_is_a_400(app, shop):
    address = email()
    client = shopper(app, shop, address)
    assert add(client, {**HOME, "city": "Lon\x00don"}).status_code == 400
    assert addresses_of(app, shop, address) == []


def test_another_customers_address_is_a_404_and_unchanged(app, shop):
    owner, intruder = email(), email()
    owner_client = shopper(app, shop, owner)
    add(owner_client, HOME)
    add(owner_client, WORK)
    before = addresses_of(app, shop, owner)
    other = shopper(app, shop, intruder)
    for row in before:
        for action in ("delete", "default"):
            response = other.post(f"/account/addresses/{row.id}/{action}", csrf_from="/account/addresses")
            assert response.status_code == 404
    for path in ("/account/addresses/99999999/delete", "/account/addresses/0/delete",
                 "/account/addresses/99999999999999999999/default"):
        assert other.post(path, csrf_from="/account/addresses").status_code == 404
    assert addresses_of(app, shop, owner) == before


def test_logged_out_address_writes_go_to_log_in(app, shop):
    from tests.customers.helpers import browser

    client = browser(app, shop)
    response = client.post("/account/addresses", HOME, csrf_from="/account/login")
    assert response.status_code == 303 and response.headers["Location"].startswith("/account/login?next=")
    assert rows(app, shop, "SELECT count(*) FROM customer_addresses")[0][0] == 0


def test_a_full_address_book_refuses_more(app, shop, monkeypatch):
    from app.customers import addresses

    monkeypatch.setattr(addresses, "MAX_ADDRESSES", 1)
    address = email()
    client = shopper(app, shop, address)
    assert add(client, HOME).status_code == 303
    refused = add(client, WORK)
    assert refused.status_code == 422 and "at most 1 addresses" in refused.get_data(as_text=True)
    assert 'value="1 Analytical Way"' in refused.get_data(as_text=True)
    assert len(addresses_of(app, shop, address)) == 1
