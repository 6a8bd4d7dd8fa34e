"""From a cart and what the shopper chose to a priced order draft: the
checkout's use of the store's shipping, tax and discount rules (quote.py
does the sums)."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.catalog.models import Variant
from app.checkout import discounts, quote, shipping
from app.checkout.errors import PricingError, PricingErrorCode
from app.checkout.models import Address, Discount, Line
from app.extensions import db
from app.orders.service import Draft, DraftLine


@dataclass(frozen=True)
class Priced:
    draft: Draft
    quote: quote.Quote
    discount: Discount | None
    customer_key: str


def lines_of(cart) -> list[Line]:
    """The cart's lines as pricing sees them (with their weights, for shipping by weight)."""
    ids = [line.item.variant_id for line in cart.lines]
    grams = dict(db.session.execute(sa.select(Variant.id, Variant.weight_grams).where(Variant.id.in_(ids))).all())
    return [Line(line.item.variant_id, line.item.title, line.quantity, line.unit_price,
                 grams.get(line.item.variant_id, 0)) for line in cart.lines]


def address_of(raw: dict | None) -> Address | None:
    if not raw:
        return None
    return Address(raw["country"], (raw.get("region") or "").strip().upper())


def shipping_options(cart, address: dict) -> list[shipping.ShippingOption]:
    lines = lines_of(cart)
    return shipping.options_for(address_of(address), lines, sum(line.quantity * line.unit_price for line in lines))


def draft(cart, submission, *, holder: str, customer_id: int | None, client_ip: str | None) -> Priced:
    """The order the cart makes, priced; PricingError/DiscountError (422) when it cannot be."""
    lines = lines_of(cart)
    address = address_of(submission.shipping_address)
    key = discounts.customer_key(customer_id, submission.email)
    subtotal = sum(line.quantity * line.unit_price for line in lines)
    discount = discounts.check(submission.discount_code, subtotal, key) if submission.discount_code else None
    if not submission.shipping_option:
        off = quote.discount_amount(discount, subtotal, cart.currency)
        if not shipping.options_for(address, lines, subtotal - off):
            raise PricingError(PricingErrorCode.NO_SUCH_SHIPPING, "Sorry, this shop does not ship to that address.",
                               "shipping_option")
        raise PricingError(PricingErrorCode.NO_SUCH_SHIPPING, "Choose a shipping method.", "shipping_option")
    priced = quote.price(lines, address, submission.shipping_option, discount, quote.load_settings())
    items = {line.item.variant_id: line.item for line in cart.lines}
    order_lines = tuple(DraftLine(line.variant_id, items[line.variant_id].product_id,
                                  items[line.variant_id].product_title, _variant_title(items[line.variant_id]),
                                  items[line.variant_id].sku, line.quantity, line.unit_price,
                                  items[line.variant_id].tracked, line.discount, line.tax) for line in priced.lines)
    order = Draft(email=submission.email, customer_id=customer_id, currency=priced.currency, lines=order_lines,
                  subtotal=priced.subtotal, discount_total=priced.discount, shipping_total=priced.shipping,
                  tax_total=priced.tax, total=priced.total, prices_include_tax=priced.taxes_included,
                  tax_lines=tuple({"name": t.name, "rate": t.rate, "amount": t.amount} for t in priced.tax_lines),
                  discount_code=priced.discount_code,
                  shipping_method=priced.shipping_option.name if priced.shipping_option else None,
                  shipping_address=submission.shipping_address,
                  billing_address=submission.billing_address or submission.shipping_address,
                  payment_method=submission.payment, cart_holder=holder, client_ip=client_ip)
    return Priced(order, priced, discount, key)


def redeem(priced: Priced, order) -> None:
    """Count the code's use for this order, in the order's transaction (DiscountError: used up meanwhile)."""
    if priced.discount is not None:
        discounts.redeem(priced.discount.id, priced.customer_key, order.token)


def release(order) -> None:
    """The order failed or was cancelled: its use of the code no longer counts."""
    if order.discount_code:
        discounts.release(order.token)


def _variant_title(item) -> str:
    return item.variant_title if item.variant_title not in ("", "Default Title") else ""
