"""Tax rates and the store's tax settings, and the tax on an amount.

The model (Shopify's "added to"): a store sets a rate per country and,
where a region taxes too, a rate per region. An address pays its country's
rate plus its region's rate, each shown as its own line (Canada: GST 5 %
for CA plus PST 7 % for CA-BC; the US: no country rate, a rate per state).
A region rate never replaces the country rate; a merchant whose region tax
does replace it (a harmonized tax) enters the region's part only.

Amounts are integers throughout; each line's tax is rounded half up, per
line and per rate:
- prices without tax (the default): tax = amount x rate / 10000;
- prices with tax included (`prices_include_tax`): the tax inside the
  amount, tax = amount x rate / (10000 + the sum of the address's rates).
Shipping is taxed at the same rates when the store's `tax_shipping` is on.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from app import parse
from app.checkout.errors import PricingError, PricingErrorCode as Code, collect, not_found
from app.checkout.models import MAX_BASIS_POINTS, MAX_TAX_RATES, Address, TaxRate, split_place
from app.extensions import db
from app.store import service as store_service
from app.store.limits import count_for_insert

_PERCENT = re.compile(r"([0-9]{1,3})(?:[.,]([0-9]{1,2}))?")


@dataclass(frozen=True)
class TaxRule:
    country: str
    region: str  # '' for the country's own rate
    name: str
    rate: int  # basis points


@dataclass(frozen=True)
class TaxLine:
    name: str
    rate: int  # basis points
    amount: int


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, in integers (both non-negative)."""
    return (2 * numerator + denominator) // (2 * denominator)


def rules_for(rules: Sequence[TaxRule], address: Address) -> list[TaxRule]:
    """The rates an address pays: its country's, then its region's (added to it)."""
    country, region = address.country.strip().upper(), address.region_code()
    found = [rule for rule in rules if rule.country == country and rule.region == ""]
    if region:
        found += [rule for rule in rules if rule.country == country and rule.region == region]
    return found


def taxes_on(amount: int, rules: Sequence[TaxRule], inclusive: bool) -> list[int]:
    """The tax of each rule on one amount (a line, or shipping), each rounded half up."""
    if inclusive:
        whole = 10_000 + sum(rule.rate for rule in rules)
        return [half_up(amount * rule.rate, whole) for rule in rules]
    return [half_up(amount * rule.rate, 10_000) for rule in rules]


# -- the store's rates and settings -----------------------------------------------------------------------------------

def load_rules() -> tuple[TaxRule, ...]:
    return tuple(TaxRule(rate.country, rate.region, rate.name, rate.rate) for rate in all_rates())


def all_rates() -> list[TaxRate]:
    return list(db.session.scalars(sa.select(TaxRate).order_by(TaxRate.country, TaxRate.region, TaxRate.id)))


def tax_settings() -> tuple[bool, bool]:
    """(prices_include_tax, tax_shipping)."""
    settings = store_service.get_settings()
    return bool(settings["prices_include_tax"]), bool(settings["tax_shipping"])


def update_tax_settings(form: Mapping, actor: str) -> None:
    store_service.update_settings({"prices_include_tax": parse.checkbox(form, "prices_include_tax"),
                                   "tax_shipping": parse.checkbox(form, "tax_shipping")}, actor)


def get_rate(rate_id: int, *, for_update: bool = False) -> TaxRate:
    query = sa.select(TaxRate).where(TaxRate.id == rate_id)
    rate = db.session.scalar(query.with_for_update() if for_update else query)
    if rate is None:
        raise not_found("No such tax rate in this store.")
    return rate


def parse_percent(raw, *, field: str = "rate", label: str = "The rate") -> int:
    """Basis points from a percentage such as "20", "7.25" or "7,25" (0 to 100)."""
    text = parse.text(raw, field=field, label=label, max_length=10, required=True)
    match = _PERCENT.fullmatch(text.rstrip("%").strip())
    if match is None:
        raise parse.bad(f"{label} must be a percentage such as 20 or 7.25.", field)
    basis_points = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if basis_points > MAX_BASIS_POINTS:
        raise parse.bad(f"{label} can be at most 100 %.", field)
    return basis_points


def _place(raw) -> tuple[str, str]:
    code = parse.text(raw, field="place", label="The country or region", max_length=10, required=True)
    place = split_place(code)
    if place is None:
        raise parse.bad(f"“{code}” is neither a country code (ISO 3166-1, such as FR) nor a region code "
                        "(ISO 3166-2, such as US-CA).", "place")
    return place


def _fields(form: Mapping) -> dict:
    values = collect({
        "place": lambda: _place(form.get("place")),
        "name": lambda: parse.text(form.get("name"), field="name", label="The tax's name", max_length=60,
                                   required=True),
        "rate": lambda: parse_percent(form.get("rate")),
    })
    values["country"], values["region"] = values.pop("place")
    return values


def create_rate(form: Mapping, actor: str) -> TaxRate:
    values = _fields(form)
    if count_for_insert(TaxRate) >= MAX_TAX_RATES:
        raise PricingError(Code.LIMIT_REACHED, f"A store can have {MAX_TAX_RATES} tax rates.", "place", status=409)
    rate = TaxRate(**values)
    _save(rate)
    store_service.record(actor, "taxes.rate_created", f"Added the tax “{rate.name}” for {rate.region or rate.country}")
    db.session.commit()
    return rate


def update_rate(rate_id: int, form: Mapping, actor: str) -> TaxRate:
    values = _fields(form)
    rate = get_rate(rate_id, for_update=True)
    for name, value in values.items():
        setattr(rate, name, value)
    _save(rate)
    store_service.record(actor, "taxes.rate_updated", f"Changed the tax “{rate.name}” for "
                         f"{rate.region or rate.country}")
    db.session.commit()
    return rate


def _save(rate: TaxRate) -> None:
    place = rate.region or rate.country
    clash = sa.select(TaxRate.id).where(TaxRate.country == rate.country, TaxRate.region == rate.region)
    if rate.id:
        clash = clash.where(TaxRate.id != rate.id)
    with db.session.no_autoflush:  # the changed row is checked before it is written
        taken = db.session.scalar(clash) is not None
    if taken:
        raise PricingError(Code.TAKEN, f"{place} already has a tax rate: change that one.", "place", status=409)
    db.session.add(rate)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # the same place added at the same moment
        db.session.rollback()
        raise PricingError(Code.TAKEN, f"{place} already has a tax rate: change that one.", "place",
                           status=409) from None


def delete_rate(rate_id: int, actor: str) -> None:
    rate = get_rate(rate_id, for_update=True)
    db.session.delete(rate)
    store_service.record(actor, "taxes.rate_deleted", f"Deleted the tax “{rate.name}” for "
                         f"{rate.region or rate.country}")
    db.session.commit()
