"""Shipping zones and rates: the dashboard's writes, and the options an
address gets.

Which zone serves an address: the zone naming its region ("US-CA") wins,
else the zone naming its country, else the store's rest-of-world zone (it
serves every address no other zone names); none is "we don't ship there".
A place belongs to one zone only, so this is never ambiguous. Only the
winning zone's rates are offered: a zone that names a country but has no
rate for this order does not fall through to the rest of the world.

A rate is flat, or by weight: brackets of grams, `min <= weight < max` (no
max: no upper bound), over the order's total weight (quantity x variant
weight); a weight rate with no bracket for the order's weight is not
offered. With `free_above`, the rate is free when the subtotal (after the
discount) is at least that much.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from app import parse
from app.checkout.errors import PricingError, PricingErrorCode as Code, collect, not_found
from app.checkout.models import (MAX_BRACKETS, MAX_GRAMS, MAX_PLACES_PER_ZONE, MAX_RATES_PER_ZONE, MAX_ZONES,
                                 RATE_KINDS, Address, Line, ShippingRate, ShippingZone, ShippingZonePlace,
                                 split_place)
from app.extensions import db
from app.money import MoneyError, parse_amount
from app.store import service as store_service
from app.store.limits import count_for_insert
from tenants.context import require_store

MAX_PLACES_TEXT = 5_000  # characters of the places box: 300 codes of up to 6 characters, with separators
_SEPARATORS = re.compile(r"[\s,;]+")


# -- plain values ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ShippingOption:
    id: str  # what checkout posts back: the rate's id
    name: str
    price: int
    currency: str


@dataclass(frozen=True)
class Bracket:
    min_grams: int
    max_grams: int | None  # exclusive; None: no upper bound
    price: int

    def holds(self, grams: int) -> bool:
        return self.min_grams <= grams and (self.max_grams is None or grams < self.max_grams)


@dataclass(frozen=True)
class RateRule:
    id: int
    name: str
    kind: str
    price: int
    brackets: tuple[Bracket, ...] = ()
    free_above: int | None = None

    def price_for(self, grams: int, subtotal: int) -> int | None:
        """What the rate costs for this order; None when it is not offered (no bracket for the weight)."""
        if self.kind == "weight":
            bracket = next((b for b in self.brackets if b.holds(grams)), None)
            if bracket is None:
                return None
            price = bracket.price
        else:
            price = self.price
        return 0 if self.free_above is not None and subtotal >= self.free_above else price


@dataclass(frozen=True)
class ZoneRule:
    id: int
    name: str
    rest_of_world: bool
    places: frozenset[str]  # country codes ("US") and region codes ("US-CA")
    rates: tuple[RateRule, ...]


# -- the options for an address ----------------------------------------------------------------------------------------

def zone_for(zones: Sequence[ZoneRule], address: Address) -> ZoneRule | None:
    """The most specific zone: the address's region, else its country, else the rest of the world."""
    region, country = address.region_code(), address.country.strip().upper()
    for wanted in ([region] if region else []) + [country]:
        found = next((zone for zone in zones if wanted in zone.places), None)
        if found is not None:
            return found
    return next((zone for zone in zones if zone.rest_of_world), None)


def total_grams(lines: Sequence[Line]) -> int:
    return sum(line.quantity * max(line.weight_grams, 0) for line in lines)


def options_from(zones: Sequence[ZoneRule], address: Address, lines: Sequence[Line], subtotal: int,
                 currency: str) -> list[ShippingOption]:
    """Pure: the options for an order to `address`, cheapest first; [] when nothing ships there."""
    zone = zone_for(zones, address)
    if zone is None:
        return []
    grams, options = total_grams(lines), []
    for rate in zone.rates:
        price = rate.price_for(grams, subtotal)
        if price is not None:
            options.append(ShippingOption(str(rate.id), rate.name, price, currency))
    return sorted(options, key=lambda option: (option.price, option.name, option.id))


def options_for(address: Address, lines: Sequence[Line], subtotal: int) -> list[ShippingOption]:
    """The store's options for an order to `address` (in the store's currency); [] = we don't ship there.
    `subtotal` is the one "free above" compares with: the subtotal after the discount."""
    return options_from(load_zones(), address, lines, subtotal, require_store().currency)


def load_zones() -> tuple[ZoneRule, ...]:
    """The store's zones and rates as plain values (three queries)."""
    zones = db.session.scalars(sa.select(ShippingZone).order_by(ShippingZone.name, ShippingZone.id)).all()
    places: dict[int, set[str]] = {}
    for zone_id, country, region in db.session.execute(
            sa.select(ShippingZonePlace.zone_id, ShippingZonePlace.country, ShippingZonePlace.region)):
        places.setdefault(zone_id, set()).add(region or country)
    rates: dict[int, list[RateRule]] = {}
    for rate in db.session.scalars(sa.select(ShippingRate).order_by(ShippingRate.id)):
        rates.setdefault(rate.zone_id, []).append(rule_of(rate))
    return tuple(ZoneRule(zone.id, zone.name, zone.rest_of_world, frozenset(places.get(zone.id, ())),
                          tuple(rates.get(zone.id, ()))) for zone in zones)


def rule_of(rate: ShippingRate) -> RateRule:
    brackets = tuple(Bracket(b["min"], b["max"], b["price"]) for b in rate.brackets or ())
    return RateRule(rate.id, rate.name, rate.kind, rate.price, brackets, rate.free_above)


# -- zones (the dashboard) ---------------------------------------------------------------------------------------------

def zones_with_rates() -> list[tuple[ShippingZone, list[str], list[ShippingRate]]]:
    """Every zone with its place codes and rates, for the list page."""
    zones = db.session.scalars(sa.select(ShippingZone).order_by(ShippingZone.name, ShippingZone.id)).all()
    places, rates = {}, {}
    for place in db.session.scalars(sa.select(ShippingZonePlace).order_by(ShippingZonePlace.country,
                                                                          ShippingZonePlace.region)):
        places.setdefault(place.zone_id, []).append(place.region or place.country)
    for rate in db.session.scalars(sa.select(ShippingRate).order_by(ShippingRate.id)):
        rates.setdefault(rate.zone_id, []).append(rate)
    return [(zone, places.get(zone.id, []), rates.get(zone.id, [])) for zone in zones]


def get_zone(zone_id: int, *, for_update: bool = False) -> ShippingZone:
    query = sa.select(ShippingZone).where(ShippingZone.id == zone_id)
    zone = db.session.scalar(query.with_for_update() if for_update else query)
    if zone is None:
        raise not_found("No such shipping zone in this store.")
    return zone


def zone_places(zone_id: int) -> list[str]:
    return [region or country for country, region in db.session.execute(
        sa.select(ShippingZonePlace.country, ShippingZonePlace.region).where(ShippingZonePlace.zone_id == zone_id)
        .order_by(ShippingZonePlace.country, ShippingZonePlace.region))]


def parse_places(raw) -> list[tuple[str, str]]:
    """(country, region) pairs from text such as "FR, DE  US-CA"; each known, no repeats."""
    text = parse.text(raw, field="places", label="The countries and regions", max_length=MAX_PLACES_TEXT,
                      multiline=True)
    codes = [code for code in _SEPARATORS.split(text.upper()) if code]
    if len(codes) > MAX_PLACES_PER_ZONE:
        raise parse.bad(f"A zone can name at most {MAX_PLACES_PER_ZONE} countries and regions.", "places")
    places = []
    for code in codes:
        place = split_place(code)
        if place is None:
            raise parse.bad(f"“{code[:12]}” is neither a country code (ISO 3166-1, such as FR) nor a region "
                            "code (ISO 3166-2, such as US-CA).", "places")
        places.append(place)
    return list(dict.fromkeys(places))


def _zone_fields(form: Mapping) -> dict:
    values = collect({
        "name": lambda: parse.text(form.get("name"), field="name", label="The zone's name", max_length=100,
                                   required=True),
        "places": lambda: parse_places(form.get("places")),
    })
    values["rest_of_world"] = parse.checkbox(form, "rest_of_world")
    if values["rest_of_world"] and values["places"]:
        raise parse.bad("The rest-of-world zone serves every place no other zone names: leave its countries "
                        "empty.", "places")
    if not values["rest_of_world"] and not values["places"]:
        raise parse.bad("Name at least one country or region (or make this the rest-of-world zone).", "places")
    return values


def create_zone(form: Mapping, actor: str) -> ShippingZone:
    values = _zone_fields(form)
    if count_for_insert(ShippingZone) >= MAX_ZONES:
        raise PricingError(Code.LIMIT_REACHED, f"A store can have {MAX_ZONES} shipping zones.", "name", status=409)
    zone = ShippingZone(name=values["name"], rest_of_world=values["rest_of_world"])
    db.session.add(zone)
    _flush_zone(zone, values["places"])
    store_service.record(actor, "shipping.zone_created", f"Added the shipping zone “{zone.name}”")
    db.session.commit()
    return zone


def update_zone(zone_id: int, form: Mapping, actor: str) -> ShippingZone:
    values = _zone_fields(form)
    zone = get_zone(zone_id, for_update=True)
    zone.name, zone.rest_of_world = values["name"], values["rest_of_world"]
    db.session.execute(sa.delete(ShippingZonePlace).where(ShippingZonePlace.zone_id == zone.id))
    _flush_zone(zone, values["places"])
    store_service.record(actor, "shipping.zone_updated", f"Changed the shipping zone “{zone.name}”")
    db.session.commit()
    return zone


def _flush_zone(zone: ShippingZone, places: list[tuple[str, str]]) -> None:
    """Write the zone and its places; a place another zone names, or a second rest-of-world zone, is refused."""
    with db.session.no_autoflush:  # the changed zone is checked before it is written
        _refuse_taken(zone, places)
    try:
        db.session.flush()
        db.session.add_all(ShippingZonePlace(zone_id=zone.id, country=country, region=region)
                           for country, region in places)
        db.session.flush()
    except sa.exc.IntegrityError:  # another zone took one of them (or the rest of the world) at the same moment
        db.session.rollback()
        raise PricingError(Code.TAKEN, "Another zone was given one of these places (or the rest of the world) "
                           "just now; reload and try again.", "places", status=409) from None


def _refuse_taken(zone: ShippingZone, places: list[tuple[str, str]]) -> None:
    other_zones = ShippingZone.id != zone.id if zone.id else sa.true()
    if zone.rest_of_world and db.session.scalar(sa.select(sa.exists().where(ShippingZone.rest_of_world,
                                                                            other_zones))):
        raise PricingError(Code.TAKEN, "The store already has a rest-of-world zone.", "rest_of_world", status=409)
    if not places:
        return
    wanted = sa.tuple_(ShippingZonePlace.country, ShippingZonePlace.region).in_(places)
    query = (sa.select(ShippingZonePlace.country, ShippingZonePlace.region, ShippingZone.name)
             .join(ShippingZone, sa.and_(ShippingZone.store_id == ShippingZonePlace.store_id,
                                         ShippingZone.id == ShippingZonePlace.zone_id)).where(wanted))
    if zone.id:
        query = query.where(ShippingZonePlace.zone_id != zone.id)
    taken = db.session.execute(query.limit(1)).first()
    if taken is not None:
        raise PricingError(Code.TAKEN, f"{taken.region or taken.country} is already in the zone “{taken.name}”: "
                           "a place can be in one zone only.", "places", status=409)


def delete_zone(zone_id: int, actor: str) -> None:
    zone = get_zone(zone_id, for_update=True)
    db.session.delete(zone)  # its places and rates go with it (ON DELETE CASCADE)
    store_service.record(actor, "shipping.zone_deleted", f"Deleted the shipping zone “{zone.name}”")
    db.session.commit()


# -- rates -------------------------------------------------------------------------------------------------------------

def get_rate(rate_id: int, *, for_update: bool = False) -> ShippingRate:
    query = sa.select(ShippingRate).where(ShippingRate.id == rate_id)
    rate = db.session.scalar(query.with_for_update() if for_update else query)
    if rate is None:
        raise not_found("No such shipping rate in this store.")
    return rate


def rates_of(zone_id: int) -> list[ShippingRate]:
    return list(db.session.scalars(sa.select(ShippingRate).where(ShippingRate.zone_id == zone_id)
                                   .order_by(ShippingRate.id)))


def money(raw, *, field: str, label: str, required: bool = True) -> int | None:
    """Minor units from a price field in the store's locale (blank: None, or refused when required)."""
    text = parse.text(raw, field=field, label=label, max_length=64)
    if not text:
        if required:
            raise parse.bad(f"{label} is required.", field)
        return None
    store = require_store()
    try:
        return parse_amount(text, store.currency, store.locale)
    except MoneyError as error:
        raise parse.bad(f"{label}: {error}", field) from None


def _grams(raw, field: str, label: str, required: bool) -> int | None:
    number = parse.whole_number(raw, field=field, label=label, maximum=MAX_GRAMS)
    if number is None and required:
        raise parse.bad(f"{label} is required.", field)
    return number


def parse_brackets(form: Mapping) -> list[dict]:
    """The weight brackets posted as rows of bracket_min / bracket_max / bracket_price (blank rows skipped)."""
    getlist = form.getlist if hasattr(form, "getlist") else (lambda name: [form.get(name)] if name in form else [])
    columns = [getlist("bracket_min"), getlist("bracket_max"), getlist("bracket_price")]
    if max(map(len, columns)) > MAX_BRACKETS:
        raise parse.bad(f"A rate can have at most {MAX_BRACKETS} weight brackets.", "brackets")
    rows = [tuple(column[n] if n < len(column) else "" for column in columns) for n in range(max(map(len, columns)))]
    brackets = []
    for n, (low, high, price) in enumerate(rows, start=1):
        if not any(str(value).strip() for value in (low, high, price)):
            continue
        label = f"Bracket {n}"
        low_grams = _grams(low, "brackets", f"{label}'s lowest weight", True)
        high_grams = _grams(high, "brackets", f"{label}'s highest weight", False)
        if high_grams is not None and high_grams <= low_grams:
            raise parse.bad(f"{label}: the highest weight must be more than the lowest.", "brackets")
        brackets.append({"min": low_grams, "max": high_grams,
                         "price": money(price, field="brackets", label=f"{label}'s price")})
    return _ordered(brackets)


def _ordered(brackets: list[dict]) -> list[dict]:
    brackets.sort(key=lambda b: b["min"])
    for before, after in zip(brackets, brackets[1:]):
        if before["max"] is None or before["max"] > after["min"]:
            raise parse.bad("Weight brackets must not overlap: each starts at or after the previous one's "
                            "highest weight.", "brackets")
    return brackets


def _rate_fields(form: Mapping) -> dict:
    kind = str(form.get("kind") or "")
    checks = {
        "name": lambda: parse.text(form.get("name"), field="name", label="The rate's name", max_length=100,
                                   required=True),
        "kind": lambda: kind if kind in RATE_KINDS else _refuse("Choose a flat rate or a rate by weight.", "kind"),
        "free_above": lambda: money(form.get("free_above"), field="free_above", label="Free above",
                                    required=False),
    }
    if kind == "weight":
        checks["brackets"] = lambda: parse_brackets(form)
    else:
        checks["price"] = lambda: money(form.get("price"), field="price", label="The price")
    values = collect(checks)
    if kind == "weight" and not values["brackets"]:
        raise parse.bad("A rate by weight needs at least one bracket.", "brackets")
    return {"price": 0, "brackets": [], **values}


def _refuse(message: str, field: str):
    raise parse.bad(message, field)


def create_rate(zone_id: int, form: Mapping, actor: str) -> ShippingRate:
    values = _rate_fields(form)
    zone = get_zone(zone_id, for_update=True)  # the lock: two adds at once both count each other's rate
    count = db.session.scalar(sa.select(sa.func.count()).select_from(ShippingRate)
                              .where(ShippingRate.zone_id == zone.id))
    if count >= MAX_RATES_PER_ZONE:
        raise PricingError(Code.LIMIT_REACHED, f"A zone can have {MAX_RATES_PER_ZONE} rates.", "name", status=409)
    rate = ShippingRate(zone_id=zone.id, **values)
    db.session.add(rate)
    store_service.record(actor, "shipping.rate_created", f"Added the rate “{rate.name}” to “{zone.name}”")
    db.session.commit()
    return rate


def update_rate(rate_id: int, form: Mapping, actor: str) -> ShippingRate:
    values = _rate_fields(form)
    rate = get_rate(rate_id, for_update=True)
    for name, value in values.items():
        setattr(rate, name, value)
    store_service.record(actor, "shipping.rate_updated", f"Changed the shipping rate “{rate.name}”")
    db.session.commit()
    return rate


def delete_rate(rate_id: int, actor: str) -> int:
    """Deletes the rate; returns its zone's id."""
    rate = get_rate(rate_id, for_update=True)
    db.session.delete(rate)
    store_service.record(actor, "shipping.rate_deleted", f"Deleted the shipping rate “{rate.name}”")
    db.session.commit()
    return rate.zone_id
