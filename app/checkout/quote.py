"""What an order costs: one pure function over plain values, so the cart,
the checkout and the order agree to the last minor unit.

The order of the sums (all integers, minor units of the store's currency):
1. subtotal = the lines' quantity x unit price;
2. the discount applies to the subtotal, before tax: a percentage (rounded
   half up) or a fixed amount, never more than the subtotal; free shipping
   takes nothing off the subtotal and makes the shipping 0. The discount
   is spread over the lines in proportion to their amounts, exactly (the
   largest remainders get the odd units), so the parts sum to the whole
   and no line goes below 0;
3. shipping: the chosen option's price for the address, its "free above"
   compared with the subtotal after the discount;
4. tax on each line's discounted amount (and on shipping when the store
   taxes it), per line and per rate, rounded half up (app.checkout.taxes);
5. total = discounted subtotal + shipping, plus the tax when prices do not
   include it (when they do, the tax lines say how much of the total is tax).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.checkout import shipping as shipping_rules, taxes
from app.checkout.errors import DiscountError, DiscountErrorCode, PricingError, PricingErrorCode
from app.checkout.models import Address, Discount, Line
from app.checkout.shipping import ShippingOption, ZoneRule
from app.checkout.taxes import TaxLine, TaxRule
from app.money import format_amount
from tenants.context import require_store


@dataclass(frozen=True)
class PricingSettings:
    """Everything about the store that pricing reads, as plain values (`load_settings()` builds it)."""

    currency: str
    prices_include_tax: bool = False
    tax_shipping: bool = False
    zones: tuple[ZoneRule, ...] = ()
    tax_rules: tuple[TaxRule, ...] = ()


@dataclass(frozen=True)
class QuoteLine:
    variant_id: int
    title: str
    quantity: int
    unit_price: int
    amount: int  # quantity x unit price
    discount: int  # this line's part of the order's discount
    tax: int  # the tax on (amount - discount), every rate together


@dataclass(frozen=True)
class Quote:
    currency: str
    lines: tuple[QuoteLine, ...]
    subtotal: int
    discount: int
    discount_code: str | None
    shipping: int
    shipping_option: ShippingOption | None  # None until the shopper chose one
    tax_lines: tuple[TaxLine, ...]
    tax: int  # the sum of the tax lines
    taxes_included: bool  # the tax is part of the prices (and of the total) rather than added to it
    total: int


def load_settings() -> PricingSettings:
    """The current store's pricing rules (store context required)."""
    include, tax_shipping = taxes.tax_settings()
    return PricingSettings(require_store().currency, include, tax_shipping, shipping_rules.load_zones(),
                           taxes.load_rules())


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder): the parts sum to `total` exactly, and
    no part exceeds its weight when total <= sum(weights). Ties go to the earlier weight."""
    whole = sum(weights)
    if whole == 0:
        return [0 for _ in weights]
    parts = [total * weight // whole for weight in weights]
    remainders = sorted(range(len(weights)), key=lambda n: (-(total * weights[n] % whole), n))
    for n in remainders[:total - sum(parts)]:
        parts[n] += 1
    return parts


def discount_amount(discount: Discount | None, subtotal: int, currency: str) -> int:
    if discount is None:
        return 0
    if subtotal < discount.minimum_subtotal:
        raise DiscountError(DiscountErrorCode.BELOW_MINIMUM, f"{discount.code} needs a subtotal of at least "
                            f"{format_amount(discount.minimum_subtotal, currency)} {currency}.", "discount_code")
    if discount.kind == "percentage":
        return min(taxes.half_up(subtotal * discount.value, 10_000), subtotal)
    if discount.kind == "fixed":
        return min(discount.value, subtotal)
    return 0


def _check_lines(lines: Sequence[Line]) -> None:
    for line in lines:
        if line.quantity < 1 or line.unit_price < 0 or line.weight_grams < 0:
            raise PricingError(PricingErrorCode.INVALID, f"{line.title}: a line needs a quantity of at least 1 "
                               "and no negative price or weight.", "lines")


def _shipping(lines, address, option_id, subtotal, discount, settings) -> tuple[int, ShippingOption | None]:
    if option_id is None:
        return 0, None
    options = [] if address is None else shipping_rules.options_from(settings.zones, address, lines, subtotal,
                                                                     settings.currency)
    chosen = next((option for option in options if option.id == str(option_id)), None)
    if chosen is None:
        raise PricingError(PricingErrorCode.NO_SUCH_SHIPPING, "That shipping choice is not available for this "
                           "address and order: choose one of the options shown.", "shipping_option")
    if discount is not None and discount.kind == "free_shipping":
        return 0, chosen
    return chosen.price, chosen


def price(lines: Sequence[Line], address: Address | None, shipping_option_id: str | None,
          discount: Discount | None, settings: PricingSettings) -> Quote:
    """The quote for an order (see the module's docstring for the order of the sums). Raises
    PricingError for a shipping choice the address does not have, DiscountError for a subtotal
    below the code's minimum."""
    _check_lines(lines)
    amounts = [line.amount for line in lines]
    subtotal = sum(amounts)
    off = discount_amount(discount, subtotal, settings.currency)
    shares = allocate(off, amounts)
    shipping, option = _shipping(lines, address, shipping_option_id, subtotal - off, discount, settings)
    rules = [] if address is None else taxes.rules_for(settings.tax_rules, address)
    per_rule = [0] * len(rules)
    line_taxes = []
    taxed = [amount - share for amount, share in zip(amounts, shares)]
    if settings.tax_shipping and shipping:
        taxed.append(shipping)
    for amount in taxed:
        each = taxes.taxes_on(amount, rules, settings.prices_include_tax)
        per_rule = [a + b for a, b in zip(per_rule, each)]
        line_taxes.append(sum(each))
    tax = sum(per_rule)
    quote_lines = tuple(QuoteLine(line.variant_id, line.title, line.quantity, line.unit_price, amount, share, line_tax)
                        for line, amount, share, line_tax in zip(lines, amounts, shares, line_taxes))
    total = subtotal - off + shipping + (0 if settings.prices_include_tax else tax)
    return Quote(settings.currency, quote_lines, subtotal, off, discount.code if discount else None, shipping, option,
                 tuple(TaxLine(rule.name, rule.rate, amount) for rule, amount in zip(rules, per_rule)), tax,
                 settings.prices_include_tax, total)
