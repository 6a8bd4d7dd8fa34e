"""quote.price, the pure pricing function: worked examples, then many random orders checked for the
properties that must always hold (exact sums, no negative amount, discount within the subtotal)."""
from __future__ import annotations

import random

import pytest

from app.checkout.errors import DiscountError, PricingError
from app.checkout.models import Address, Discount, Line
from app.checkout.quote import PricingSettings, allocate, price
from app.checkout.shipping import Bracket, RateRule, ZoneRule
from app.checkout.taxes import TaxRule, half_up

ZONES = (
    ZoneRule(1, "Domestic", False, frozenset({"US"}), (
        RateRule(11, "Standard", "flat", 500, free_above=5_000),
        RateRule(12, "By weight", "weight", 0, (Bracket(0, 1_000, 400), Bracket(1_000, None, 900))),
    )),
    ZoneRule(2, "California", False, frozenset({"US-CA"}), (RateRule(21, "Local", "flat", 300),)),
    ZoneRule(3, "World", True, frozenset(), (RateRule(31, "International", "flat", 2_500),)),
)
TAXES = (TaxRule("CA", "", "GST", 500), TaxRule("CA", "CA-BC", "PST", 700), TaxRule("FR", "", "VAT", 2_000),
         TaxRule("US", "US-NY", "NY sales tax", 888))


def settings(**overrides) -> PricingSettings:
    return PricingSettings(**{"currency": "USD", "zones": ZONES, "tax_rules": TAXES, **overrides})


def line(price_, quantity=1, grams=0, n=1) -> Line:
    return Line(n, f"Item {n}", quantity, price_, grams)


def test_an_order_without_discount_tax_or_shipping_costs_its_subtotal():
    quote = price([line(1_999, 2), line(500, n=2)], Address("DE"), None, None, settings())
    assert (quote.subtotal, quote.discount, quote.shipping, quote.tax, quote.total) == (4_498, 0, 0, 0, 4_498)
    assert quote.tax_lines == () and quote.currency == "USD"


def test_tax_is_added_per_line_rounded_half_up_and_shown_per_rate():
    # 1,005 x 5 % = 50.25 -> 50; 1,010 x 5 % = 50.5 -> 51 (half up); PST 7 %: 70.35 -> 70, 70.7 -> 71
    quote = price([line(1_005), line(1_010, n=2)], Address("CA", "BC"), None, None, settings())
    assert [(t.name, t.rate, t.amount) for t in quote.tax_lines] == [("GST", 500, 101), ("PST", 700, 141)]
    assert quote.tax == 242 and quote.total == 2_015 + 242 and not quote.taxes_included
    assert [q.tax for q in quote.lines] == [50 + 70, 51 + 71]


def test_included_tax_is_the_part_of_the_price_and_not_added():
    quote = price([line(12_000)], Address("FR"), None, None, settings(prices_include_tax=True))
    assert quote.tax_lines[0].amount == 2_000 and quote.total == 12_000 and quote.taxes_included


def test_a_percentage_discount_comes_off_before_tax_and_is_spread_exactly():
    discount = Discount(7, "TEN", "percentage", 1_000)
    quote = price([line(1_000), line(333, 3, n=2)], Address("FR"), None, discount, settings())
    assert quote.subtotal == 1_999 and quote.discount == 200  # 199.9 -> 200
    assert [q.discount for q in quote.lines] == [100, 100] and sum(q.discount for q in quote.lines) == 200
    assert quote.tax == half_up(900 * 2_000, 10_000) + half_up(899 * 2_000, 10_000)
    assert quote.total == 1_799 + quote.tax and quote.discount_code == "TEN"


def test_a_fixed_discount_never_exceeds_the_subtotal():
    quote = price([line(300)], Address("US"), "11", Discount(1, "BIG", "fixed", 10_000), settings())
    assert quote.discount == 300 and quote.shipping == 500 and quote.total == 500


def test_free_shipping_zeroes_the_shipping_and_leaves_the_subtotal():
    quote = price([line(1_000)], Address("US"), "11", Discount(1, "SHIP", "free_shipping", 0), settings())
    assert (quote.discount, quote.shipping, quote.total) == (0, 0, 1_000)
    assert quote.shipping_option.name == "Standard" and quote.shipping_option.price == 500


def test_shipping_is_taxed_only_when_the_store_says_so():
    lines, address = [line(1_000)], Address("FR")
    world = price(lines, address, "31", None, settings())
    taxed = price(lines, address, "31", None, settings(tax_shipping=True))
    assert world.tax == 200 and taxed.tax == 200 + 500 and taxed.total == 1_000 + 2_500 + 700


def test_free_above_compares_the_subtotal_after_the_discount():
    lines = [line(5_000)]
    assert price(lines, Address("US"), "11", None, settings()).shipping == 0
    discounted = price(lines, Address("US"), "11", Discount(1, "OFF", "fixed", 1), settings())
    assert discounted.shipping == 500


def test_a_shipping_choice_the_address_does_not_have_is_refused():
    with pytest.raises(PricingError) as refused:
        price([line(100)], Address("US", "CA"), "11", None, settings())  # California has its own zone
    assert refused.value.field == "shipping_option"
    with pytest.raises(PricingError):
        price([line(100)], None, "11", None, settings())


def test_a_subtotal_below_the_codes_minimum_is_refused():
    with pytest.raises(DiscountError) as refused:
        price([line(100)], Address("US"), None, Discount(1, "MIN", "fixed", 50, minimum_subtotal=101), settings())
    assert "MIN needs a subtotal of at least 1.01" in refused.value.message


def test_a_negative_or_empty_line_is_refused():
    for bad in (line(-1), line(100, 0), line(100, 1, -5)):
        with pytest.raises(PricingError):
            price([bad], Address("US"), None, None, settings())


@pytest.mark.parametrize("total, weights, expected", [
    (10, [1, 1, 1], [4, 3, 3]), (0, [5, 7], [0, 0]), (12, [0, 12], [0, 12]), (1, [1, 1], [1, 0]),
    (100, [333, 333, 334], [33, 33, 34]), (0, [0, 0], [0, 0]),
])
def test_allocation_examples(total, weights, expected):
    assert allocate(total, weights) == expected


def _random_order(rng: random.Random):
    lines = [Line(n, f"Item {n}", rng.randint(1, 20), rng.choice([0, 1, 99, rng.randint(0, 10**7), 10**12]),
                  rng.randint(0, 5_000)) for n in range(rng.randint(0, 8))]
    discount = rng.choice([None, Discount(1, "P", "percentage", rng.randint(1, 10_000)),
                           Discount(2, "F", "fixed", rng.randint(1, 10**9)), Discount(3, "S", "free_shipping", 0)])
    address = rng.choice([Address("US"), Address("US", "CA"), Address("US", "NY"), Address("CA", "BC"),
                          Address("CA", "ON"), Address("FR"), Address("JP")])
    return lines, discount, address


@pytest.mark.parametrize("seed", range(20))
def test_properties_hold_for_many_random_orders(seed):
    rng = random.Random(seed)
    for _ in range(250):
        lines, discount, address = _random_order(rng)
        for included in (False, True):
            config = settings(prices_include_tax=included, tax_shipping=rng.random() < 0.5)
            option = rng.choice([None, *[str(r.id) for z in ZONES for r in z.rates]])
            try:
                quote = price(lines, address, option, discount, config)
            except PricingError as refused:
                assert refused.field == "shipping_option"
                continue
            amounts = [q.amount for q in quote.lines]
            assert quote.subtotal == sum(amounts) == sum(l.quantity * l.unit_price for l in lines)
            assert 0 <= quote.discount <= quote.subtotal
            assert sum(q.discount for q in quote.lines) == quote.discount
            assert all(0 <= q.discount <= q.amount for q in quote.lines)
            assert quote.shipping >= 0 and quote.tax >= 0 and all(t.amount >= 0 for t in quote.tax_lines)
            assert quote.tax == sum(t.amount for t in quote.tax_lines)
            assert sum(q.tax for q in quote.lines) <= quote.tax  # the rest is the shipping's tax
            if discount and discount.kind == "free_shipping":
                assert quote.shipping == 0
            if discount and discount.kind == "fixed":
                assert quote.discount == min(discount.value, quote.subtotal)
            net = quote.subtotal - quote.discount + quote.shipping
            assert quote.total == (net if included else net + quote.tax)
            if included:
                assert quote.tax <= net
            assert all(isinstance(v, int) for v in (quote.subtotal, quote.discount, quote.shipping, quote.tax,
                                                      quote.total))


@pytest.mark.parametrize("seed", range(5))
def test_allocation_always_sums_exactly_and_stays_within_each_weight(seed):
    rng = random.Random(1_000 + seed)
    for _ in range(2_000):
        weights = [rng.choice([0, 1, rng.randint(0, 10**6), 10**15]) for _ in range(rng.randint(1, 12))]
        total = rng.randint(0, sum(weights))
        parts = allocate(total, weights)
        assert sum(parts) == total and all(0 <= p <= w for p, w in zip(parts, weights))
