"""Tax rates and settings: what an address pays (country plus region), inclusive and exclusive prices
through load_settings and quote.price, and the dashboard's writes (refusals change nothing)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.checkout import quote, taxes
from app.checkout.models import Address, Line, TaxRate
from app.checkout.taxes import TaxRule, rules_for, taxes_on
from app.extensions import db
from app.store import service as store_service
from tests.checkout.helpers import ACTOR, refused_unchanged
from tests.conftest import as_store


def _tax(app, store, place, name, rate) -> int:
    with as_store(app, store):
        return taxes.create_rate(MultiDict({"place": place, "name": name, "rate": rate}), actor=ACTOR).id


def test_a_region_rate_adds_to_the_country_rate():
    rules = [TaxRule("CA", "", "GST", 500), TaxRule("CA", "CA-BC", "PST", 700), TaxRule("CA", "CA-QC", "QST", 9975)]
    assert [r.name for r in rules_for(rules, Address("CA", "BC"))] == ["GST", "PST"]
    assert [r.name for r in rules_for(rules, Address("ca", "CA-QC"))] == ["GST", "QST"]
    assert [r.name for r in rules_for(rules, Address("CA", "ON"))] == ["GST"]
    assert rules_for(rules, Address("US", "BC")) == []


@pytest.mark.parametrize("amount, rates, inclusive, expected", [
    (1_000, [2_000], False, [200]),
    (1_200, [2_000], True, [200]),
    (999, [2_000], True, [167]),  # 166.5 -> 167, half up
    (1, [5_000], False, [1]),  # 0.5 -> 1
    (1, [4_999], False, [0]),
    (11_200, [500, 700], True, [500, 700]),
    (0, [2_000], False, [0]),
])
def test_tax_on_an_amount(amount, rates, inclusive, expected):
    rules = [TaxRule("X", "", str(rate), rate) for rate in rates]
    assert taxes_on(amount, rules, inclusive) == expected


def test_the_stores_settings_and_rates_price_an_order(app, make_store):
    store = make_store(currency="EUR")
    _tax(app, store, "FR", "TVA", "20")
    lines = [Line(1, "Scarf", 2, 6_000, 200)]
    with as_store(app, store):
        settings = quote.load_settings()
        assert (settings.currency, settings.prices_include_tax, settings.tax_shipping) == ("EUR", False, False)
        added = quote.price(lines, Address("FR"), None, None, settings)
        store_service.update_settings({"prices_include_tax": True}, ACTOR)
    with as_store(app, store):
        included = quote.price(lines, Address("FR"), None, None, quote.load_settings())
    assert (added.tax, added.total) == (2_400, 14_400)
    assert (included.tax, included.total, included.taxes_included) == (2_000, 12_000, True)
    assert [(t.name, t.rate, t.amount) for t in included.tax_lines] == [("TVA", 2_000, 2_000)]


def test_a_merchant_adds_edits_and_deletes_a_rate_and_sets_the_tax_settings(app, merchant):
    browser, _, store = merchant
    path = f"/dashboard/{store.handle}/taxes"
    page = browser.get(path).get_data(as_text=True)
    assert ">Taxes</a>" in page and "No tax rates" in page and "style=" not in page
    assert browser.post(path, {"place": "us-ny", "name": "NY sales tax", "rate": "8.875"}, csrf_from=path
                        ).status_code == 422  # three decimals: not a rate we take
    assert browser.post(path, {"place": "us-ny", "name": "NY sales tax", "rate": "8,88"}, csrf_from=path
                        ).status_code == 303
    with as_store(app, store):
        row = db.session.scalar(sa.select(TaxRate))
        assert (row.country, row.region, row.name, row.rate) == ("US", "US-NY", "NY sales tax", 888)
        edit = f"{path}/{row.id}"
    assert "8.88 %" in browser.get(path).get_data(as_text=True)
    assert 'value="8.88"' in browser.get(edit).get_data(as_text=True)
    assert browser.post(edit, {"place": "US-NY", "name": "Sales tax", "rate": "4"}, csrf_from=edit).status_code == 303
    with as_store(app, store):
        assert db.session.scalar(sa.select(TaxRate.rate)) == 400
    settings = browser.post(f"{path}/settings", {"prices_include_tax": ["off", "on"], "tax_shipping": "off"},
                            csrf_from=path)
    assert settings.status_code == 303
    with as_store(app, store):
        assert taxes.tax_settings() == (True, False)
    assert browser.post(f"{edit}/delete", {}, csrf_from=edit).status_code == 303
    with as_store(app, store):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(TaxRate)) == 0


def test_the_settings_page_has_the_tax_settings_too(app, merchant):
    browser, _, store = merchant
    path = f"/dashboard/{store.handle}/settings"
    page = browser.get(path).get_data(as_text=True)
    assert 'name="prices_include_tax"' in page and 'name="tax_shipping"' in page
    saved = browser.post(path, {"name": "Shop", "currency": "USD", "locale": "en_US", "contact_email": "",
                                "coming_soon_message": "Soon", "reservation_minutes": "15",
                                "prices_include_tax": "off", "tax_shipping": ["off", "on"]}, csrf_from=path)
    assert saved.status_code == 302
    with as_store(app, store):
        assert taxes.tax_settings() == (False, True)


RATE = {"place": "FR", "name": "TVA", "rate": "20"}


@pytest.mark.parametrize("fields, message", [
    ({"place": ""}, "The country or region is required."),
    ({"place": "XX"}, "“XX” is neither a country code"),
    ({"place": "FR-"}, "is neither a country code"),
    ({"place": "x" * 11}, "at most 10 characters"),
    ({"name": ""}, "The tax&#39;s name is required."),
    ({"name": "x" * 61}, "at most 60 characters"),
    ({"rate": ""}, "The rate is required."),
    ({"rate": "-5"}, "percentage such as 20"),
    ({"rate": "100.01"}, "at most 100 %"),
    ({"rate": "99999999999999999999"}, "at most 10 characters"),
    ({"rate": "１２"}, "percentage such as 20"),
    ({"rate": "NaN"}, "percentage such as 20"),
])
def test_bad_rates_are_a_422_and_change_nothing(app, merchant, fields, message):
    browser, _, store = merchant
    path = f"/dashboard/{store.handle}/taxes"
    assert message in refused_unchanged(app, store, browser, path, {**RATE, **fields})
    rate_id = _tax(app, store, "DE", "MwSt", "19")
    edit = f"{path}/{rate_id}"
    assert message in refused_unchanged(app, store, browser, edit, {**RATE, **fields})


def test_one_rate_per_place_and_the_cap(app, merchant, monkeypatch):
    browser, _, store = merchant
    _tax(app, store, "FR", "TVA", "20")
    path = f"/dashboard/{store.handle}/taxes"
    assert "FR already has a tax rate" in refused_unchanged(app, store, browser, path, RATE, status=409)
    monkeypatch.setattr(taxes, "MAX_TAX_RATES", 1)
    assert "can have 1 tax rates" in refused_unchanged(app, store, browser, path, {**RATE, "place": "DE"},
                                                       status=409)
