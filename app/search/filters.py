"""What a shopper narrows a storefront search to, read from the query string.

Shoppers edit URLs and bots invent them, so `ShopFilters.from_args` never
refuses: a value it cannot use is dropped, and each filter keeps at most
MAX_VALUES values of at most MAX_TEXT characters. `to_args` writes the same
filters back, and `toggle` gives the filters a facet link leads to (the
other filters kept).

Prices are the product's lowest variant price in minor units of the store's
currency; a range is half-open, min <= price < max, so the facet's buckets
(`price_buckets`) never overlap.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from types import MappingProxyType

from werkzeug.datastructures import MultiDict

from app.money import MAX_AMOUNT, format_money, precision

MAX_VALUES = 20  # per filter (and option names)
MAX_TEXT = 100  # characters of a name or value
OPTION_PREFIX = "opt."
TRUE_WORDS = frozenset({"1", "true", "on", "yes"})
# Bucket bounds in major units of the store's currency: under 25, 25–50, 50–100, 100–200, 200 and over.
BUCKET_BOUNDS = (25, 50, 100, 200)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PRICE = re.compile(r"^\s*(\d{0,15})\s*-\s*(\d{0,15})\s*$")


def clean_value(raw) -> str:
    """A filter value as compared: control characters gone, whitespace folded, truncated."""
    return " ".join(_CONTROL.sub(" ", str(raw)).split())[:MAX_TEXT]


def _values(raws) -> frozenset[str]:
    values = []
    for raw in raws:
        value = clean_value(raw)
        if value and value.casefold() not in {v.casefold() for v in values}:
            values.append(value)
        if len(values) == MAX_VALUES:
            break
    return frozenset(values)


def parse_price(raw: str) -> tuple[int | None, int | None] | None:
    """'1000-5000', '1000-' or '-5000' (minor units) -> (min, max); None for anything else."""
    match = _PRICE.match(str(raw))
    if not match or not any(match.groups()):
        return None
    low, high = (int(part) if part else None for part in match.groups())
    if any(bound is not None and bound > MAX_AMOUNT for bound in (low, high)):
        return None
    if low is not None and high is not None and low >= high:
        return None
    return low, high


def price_key(low: int | None, high: int | None) -> str:
    return f"{'' if low is None else low}-{'' if high is None else high}"


@dataclass(frozen=True)
class ShopFilters:
    vendors: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    price_min: int | None = None
    price_max: int | None = None  # exclusive
    options: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    in_stock: bool = False
    within: frozenset[int] | None = None  # a collection's product ids; None: the whole store

    def __hash__(self):  # `options` is a mapping; hash what it holds
        return hash((self.vendors, self.types, self.price_min, self.price_max,
                     tuple(sorted(self.options.items())), self.in_stock, self.within))

    @classmethod
    def from_args(cls, args, within: frozenset[int] | None = None) -> ShopFilters:
        """From a query string (a MultiDict, or a mapping of lists or values): `vendor` and `type`
        repeated, `price=min-max`, `opt.<name>` repeated, `in_stock=1`."""
        args = args if hasattr(args, "getlist") else MultiDict(args)
        price = next(filter(None, (parse_price(raw) for raw in args.getlist("price")[:MAX_VALUES])), (None, None))
        return cls(vendors=_values(args.getlist("vendor")), types=_values(args.getlist("type")),
                   price_min=price[0], price_max=price[1], options=_options(args),
                   in_stock=any(str(raw).strip().lower() in TRUE_WORDS for raw in args.getlist("in_stock")[:1]),
                   within=frozenset(within) if within is not None else None)

    def to_args(self) -> list[tuple[str, str]]:
        """The query-string pairs these filters came from (`within` is the page's own, not an argument)."""
        pairs = [("vendor", v) for v in sorted(self.vendors)] + [("type", t) for t in sorted(self.types)]
        if self.price_min is not None or self.price_max is not None:
            pairs.append(("price", price_key(self.price_min, self.price_max)))
        for name in sorted(self.options):
            pairs += [(OPTION_PREFIX + name, value) for value in sorted(self.options[name])]
        if self.in_stock:
            pairs.append(("in_stock", "1"))
        return pairs

    def toggle(self, key: str, value: str) -> ShopFilters:
        """These filters with one facet value switched on or off (a price
        range or in-stock replaces or clears the current one): where a facet link leads."""
        if key == "vendor":
            return replace(self, vendors=_toggled(self.vendors, value))
        if key == "type":
            return replace(self, types=_toggled(self.types, value))
        if key == "price":
            low, high = parse_price(value) or (None, None)
            same = (low, high) == (self.price_min, self.price_max)
            return replace(self, price_min=None if same else low, price_max=None if same else high)
        if key == "in_stock":
            return replace(self, in_stock=not self.in_stock)
        if key.startswith(OPTION_PREFIX):
            name = clean_value(key[len(OPTION_PREFIX):]).casefold()
            options = dict(self.options)
            options[name] = _toggled(options.get(name, frozenset()), value)
            return replace(self, options=MappingProxyType({n: v for n, v in options.items() if v}))
        return self

    @property
    def active(self) -> bool:
        """Whether any filter (other than `within`) is set."""
        return bool(self.vendors or self.types or self.options or self.in_stock
                    or self.price_min is not None or self.price_max is not None)


def _toggled(values: frozenset[str], value: str) -> frozenset[str]:
    value = clean_value(value)
    kept = frozenset(v for v in values if v.casefold() != value.casefold())
    return kept if len(kept) < len(values) else (values | {value} if value else values)


def _options(args) -> Mapping[str, frozenset[str]]:
    names = [key for key in args.keys() if str(key).startswith(OPTION_PREFIX)]
    options: dict[str, frozenset[str]] = {}
    for key in names:
        name = clean_value(key[len(OPTION_PREFIX):]).casefold()
        values = _values(args.getlist(key))
        if name and values and len(options) < MAX_VALUES:
            options[name] = frozenset(list(options.get(name, frozenset()) | values)[:MAX_VALUES])
    return MappingProxyType(options)


@dataclass(frozen=True)
class PriceBucket:
    low: int | None
    high: int | None
    label: str

    @property
    def key(self) -> str:
        return price_key(self.low, self.high)


def price_buckets(currency: str, locale: str) -> list[PriceBucket]:
    """The price facet's ranges in the store's currency, labelled the way the store shows money."""
    unit = 10 ** precision(currency)
    bounds = [None, *(major * unit for major in BUCKET_BOUNDS), None]
    money = partial(format_money, currency=currency, locale=locale)
    buckets = []
    for low, high in zip(bounds, bounds[1:]):
        if low is None:
            label = f"Under {money(high)}"
        elif high is None:
            label = f"{money(low)} and over"
        else:
            label = f"{money(low)} – {money(high)}"
        buckets.append(PriceBucket(low, high, label))
    return buckets
