"""Shipping zones and rates: which zone an address gets (most specific wins), flat and weight rates,
free above a subtotal, and the dashboard's writes, each refusal a 4xx that changes nothing."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.checkout import shipping
from app.checkout.models import Address, Line, ShippingRate, ShippingZone, ShippingZonePlace
from app.extensions import db
from tests.checkout.helpers import ACTOR, refused_unchanged
from tests.conftest import as_store


def _zone(app, store, name, places="", rest_of_world=False) -> int:
    form = MultiDict({"name": name, "places": places, **({"rest_of_world": "on"} if rest_of_world else {})})
    with as_store(app, store):
        return shipping.create_zone(form, actor=ACTOR).id


def _rate(app, store, zone_id, name, price="", kind="flat", free_above="", brackets=()) -> int:
    form = MultiDict([("name", name), ("kind", kind), ("price", price), ("free_above", free_above)])
    for low, high, cost in brackets:
        form.add("bracket_min", low), form.add("bracket_max", high), form.add("bracket_price", cost)
    with as_store(app, store):
        return shipping.create_rate(zone_id, form, actor=ACTOR).id


@pytest.fixture
def zones(app, make_store):
    store = make_store(currency="EUR")
    domestic = _zone(app, store, "Domestic", "US")
    california = _zone(app, store, "California", "US-CA")
    europe = _zone(app, store, "Europe", "FR, de\nIT")
    world = _zone(app, store, "World", rest_of_world=True)
    ids = {"standard": _rate(app, store, domestic, "Standard", "5.00", free_above="50.00"),
           "heavy": _rate(app, store, domestic, "Freight", kind="weight",
                          brackets=[("0", "1000", "4.00"), ("1000", "", "9.00")]),
           "local": _rate(app, store, california, "Local courier", "3.00"),
           "eu": _rate(app, store, europe, "EU post", "8.00"),
           "world": _rate(app, store, world, "International", "25.00")}
    return store, ids


def _options(app, store, address, lines=(), subtotal=1_000):
    with as_store(app, store):
        return [(o.name, o.price, o.currency) for o in shipping.options_for(address, list(lines), subtotal)]


def test_the_most_specific_zone_wins(app, zones):
    store, _ = zones
    assert _options(app, store, Address("US", "CA")) == [("Local courier", 300, "EUR")]
    assert _options(app, store, Address("US", "US-CA")) == [("Local courier", 300, "EUR")]
    assert _options(app, store, Address("us", "NY")) == [("Freight", 400, "EUR"), ("Standard", 500, "EUR")]
    assert _options(app, store, Address("DE")) == [("EU post", 800, "EUR")]
    assert _options(app, store, Address("JP")) == [("International", 2_500, "EUR")]


def test_without_a_rest_of_world_zone_an_unknown_country_gets_nothing(app, make_store):
    store = make_store()
    _rate(app, store, _zone(app, store, "Home", "GB"), "Royal Mail", "3.50")
    assert _options(app, store, Address("GB")) == [("Royal Mail", 350, "USD")]
    assert _options(app, store, Address("JP")) == []
    assert _options(app, store, Address("XX")) == []


def test_weight_brackets_and_free_above(app, zones):
    store, _ = zones
    heavy = [Line(1, "Anvil", 2, 1_000, 600)]  # 1,200 g
    assert _options(app, store, Address("US"), heavy) == [("Standard", 500, "EUR"), ("Freight", 900, "EUR")]
    light = [Line(1, "Card", 3, 100, 10)]
    assert _options(app, store, Address("US"), light, subtotal=5_000) == [("Standard", 0, "EUR"),
                                                                         ("Freight", 400, "EUR")]


def test_a_weight_rate_without_a_bracket_for_the_order_is_not_offered(app, make_store):
    store = make_store()
    zone = _zone(app, store, "Home", "GB")
    _rate(app, store, zone, "Small parcel", kind="weight", brackets=[("0", "2000", "3.00")])
    assert _options(app, store, Address("GB"), [Line(1, "Light", 1, 100, 1_999)]) == [("Small parcel", 300, "USD")]
    assert _options(app, store, Address("GB"), [Line(1, "Heavy", 1, 100, 2_000)]) == []


# -- the dashboard ----------------------------------------------------------------------------------------------------

def _rows(app, store):
    with as_store(app, store):
        return (db.session.scalars(sa.select(ShippingZone.name).order_by(ShippingZone.id)).all(),
                db.session.execute(sa.select(ShippingZonePlace.country, ShippingZonePlace.region)
                                   .order_by(ShippingZonePlace.country, ShippingZonePlace.region)).all(),
                db.session.execute(sa.select(ShippingRate.name, ShippingRate.kind, ShippingRate.price,
                                             ShippingRate.brackets, ShippingRate.free_above)).all())


def test_a_merchant_sets_up_zones_and_rates(app, merchant):
    browser, _, store = merchant
    path = f"/dashboard/{store.handle}/shipping"
    page = browser.get(path).get_data(as_text=True)
    assert ">Shipping</a>" in page and "No shipping zones yet" in page and "style=" not in page
    made = browser.post(path, {"name": "North America", "places": "us ca, MX US-HI", "rest_of_world": "off"},
                        csrf_from=path)
    assert made.status_code == 303
    zone_page = made.headers["Location"]
    zone_id = int(re.search(r"/zones/(\d+)", zone_page).group(1))
    added = browser.post(f"{path}/zones/{zone_id}/rates", {
        "name": "Ground", "kind": "weight", "price": "", "free_above": "100.00",
        "bracket_min": ["500", "0", ""], "bracket_max": ["", "500", ""], "bracket_price": ["12.00", "6.50", ""]},
        csrf_from=zone_page)
    assert added.status_code == 303
    assert _rows(app, store) == (["North America"], [("CA", ""), ("MX", ""), ("US", ""), ("US", "US-HI")],
                                 [("Ground", "weight", 0, [{"min": 0, "max": 500, "price": 650},
                                                           {"min": 500, "max": None, "price": 1_200}], 10_000)])
    listing = browser.get(path).get_data(as_text=True)
    assert "North America" in listing and "Ground (by weight, free above $100.00)" in listing
    with as_store(app, store):
        rate_id = db.session.scalar(sa.select(ShippingRate.id))
    rate_page = f"{path}/rates/{rate_id}"
    assert 'value="6.50"' in browser.get(rate_page).get_data(as_text=True)
    saved = browser.post(rate_page, {"name": "Ground", "kind": "flat", "price": "7", "free_above": ""},
                         csrf_from=rate_page)
    assert saved.status_code == 303
    assert _rows(app, store)[2] == [("Ground", "flat", 700, [], None)]
    renamed = browser.post(zone_page, {"name": "USA", "places": "US", "rest_of_world": "off"}, csrf_from=zone_page)
    assert renamed.status_code == 303 and _rows(app, store)[:2] == (["USA"], [("US", "")])
    assert browser.post(f"{rate_page}/delete", {}, csrf_from=rate_page).status_code == 303
    assert browser.post(f"{path}/zones/{zone_id}/delete", {}, csrf_from=zone_page).status_code == 303
    assert _rows(app, store) == ([], [], [])


ZONE = {"name": "Europe", "places": "FR DE", "rest_of_world": "off"}


@pytest.mark.parametrize("fields, message", [
    ({"name": ""}, "The zone&#39;s name is required."),
    ({"name": "x" * 101}, "at most 100 characters"),
    ({"places": ""}, "Name at least one country"),
    ({"places": "FR XX"}, "“XX” is neither a country code"),
    ({"places": "FR US-"}, "is neither a country code"),
    ({"places": "ZZ"}, "is neither a country code"),
    ({"places": " ".join(["FR"] * 301)}, "at most 300 countries"),
    ({"places": "FR", "rest_of_world": "on"}, "leave its countries empty"),
    ({"places": "FR " * 2_000}, "at most 5000 characters"),
])
def test_bad_zones_are_a_422_and_change_nothing(app, merchant, fields, message):
    browser, _, store = merchant
    path = f"/dashboard/{store.handle}/shipping"
    assert message in refused_unchanged(app, store, browser, path, {**ZONE, **fields})


def test_a_place_is_in_one_zone_only_and_there_is_one_rest_of_world(app, merchant):
    browser, _, store = merchant
    _zone(app, store, "France", "FR")
    _zone(app, store, "World", rest_of_world=True)
    path = f"/dashboard/{store.handle}/shipping"
    assert "FR is already in the zone “France”" in refused_unchanged(app, store, browser, path, ZONE, status=409)
    assert "already has a rest-of-world zone" in refused_unchanged(
        app, store, browser, path, {"name": "Elsewhere", "places": "", "rest_of_world": "on"}, status=409)


RATE = {"name": "Standard", "kind": "flat", "price": "5.00", "free_above": ""}


@pytest.mark.parametrize("fields, message", [
    ({"name": ""}, "The rate&#39;s name is required."),
    ({"kind": "teleport"}, "Choose a flat rate or a rate by weight."),
    ({"price": ""}, "The price is required."),
    ({"price": "-1"}, "cannot be negative"),
    ({"price": "99999999999999999999"}, "more than the largest amount"),
    ({"price": "1e309"}, "The price"),
    ({"free_above": "-3"}, "cannot be negative"),
    ({"kind": "weight"}, "needs at least one bracket"),
    ({"kind": "weight", "bracket_min": "0", "bracket_max": "0", "bracket_price": "1"}, "must be more than the lowest"),
    ({"kind": "weight", "bracket_min": "99999999999999999999", "bracket_max": "", "bracket_price": "1"},
     "must be between 0 and"),
    ({"kind": "weight", "bracket_min": "-5", "bracket_max": "", "bracket_price": "1"}, "must be a whole number"),
    ({"kind": "weight", "bracket_min": ["0", "100"], "bracket_max": ["200", ""], "bracket_price": ["1", "2"]},
     "must not overlap"),
    ({"kind": "weight", "bracket_min": ["0"] * 21, "bracket_max": [""] * 21, "bracket_price": ["1"] * 21},
     "at most 20 weight brackets"),
])
def test_bad_rates_are_a_422_and_change_nothing(app, merchant, fields, message):
    browser, _, store = merchant
    zone_id = _zone(app, store, "Home", "US")
    zone_page = f"/dashboard/{store.handle}/shipping/zones/{zone_id}"
    body = refused_unchanged(app, store, browser, f"{zone_page}/rates", {**RATE, **fields}, page=zone_page)
    assert message in body
    rate_id = _rate(app, store, zone_id, "Existing", "1.00")
    rate_page = f"/dashboard/{store.handle}/shipping/rates/{rate_id}"
    assert message in refused_unchanged(app, store, browser, rate_page, {**RATE, **fields})


def test_the_caps_on_zones_and_rates(app, merchant, monkeypatch):
    browser, _, store = merchant
    monkeypatch.setattr(shipping, "MAX_ZONES", 1)
    monkeypatch.setattr(shipping, "MAX_RATES_PER_ZONE", 1)
    zone_id = _zone(app, store, "Home", "US")
    _rate(app, store, zone_id, "Only", "1.00")
    path = f"/dashboard/{store.handle}/shipping"
    assert "can have 1 shipping zones" in refused_unchanged(app, store, browser, path, ZONE, status=409)
    zone_page = f"{path}/zones/{zone_id}"
    assert "A zone can have 1 rates" in refused_unchanged(app, store, browser, f"{zone_page}/rates", RATE,
                                                          status=409, page=zone_page)


def test_another_stores_zone_is_a_404(app, merchant, make_store):
    browser, _, store = merchant
    other = make_store()
    zone_id = _zone(app, other, "Theirs", "FR")
    path = f"/dashboard/{store.handle}/shipping/zones/{zone_id}"
    assert browser.get(path).status_code == 404
    refused_unchanged(app, other, browser, f"{path}/delete", {}, status=404, page=f"/dashboard/{store.handle}/shipping")
