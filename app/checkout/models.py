"""Pricing rules (migration t0015) and the plain values pricing works on.

Tables:
- shipping_zones: a named set of places; one zone per store may be the
  "rest of world" (every country no other zone names).
- shipping_zone_places: a zone's countries (ISO 3166-1 alpha-2, region '')
  and regions (ISO 3166-2 such as 'US-CA'). A place belongs to one zone
  only (unique per store), so the most specific match is unambiguous.
- shipping_rates: a zone's rates: flat, or by weight (brackets of grams,
  kept as JSON with the rate since they are always read and written with
  it); an optional "free above" subtotal.
- tax_rates: a rate per country or region, in basis points.
- discounts and discount_redemptions: codes, and one row per order that
  used one (unique per order reference).
Amounts are minor units of the store's currency.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache

import sqlalchemy as sa
from babel import Locale
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.catalog.models import same_store_fk
from app.money import MAX_AMOUNT
from tenants.tenant_model import TenantModel

MAX_ZONES = 50
MAX_RATES_PER_ZONE = 20
MAX_PLACES_PER_ZONE = 300
MAX_BRACKETS = 20
MAX_TAX_RATES = 200
MAX_DISCOUNTS = 1_000
MAX_BASIS_POINTS = 10_000  # 100 %
MAX_GRAMS = 2**31 - 1
MAX_USES = 2**31 - 1
RATE_KINDS = ("flat", "weight")
DISCOUNT_KINDS = ("percentage", "fixed", "free_shipping")
# Babel's territories include regions ("001") and codes that are no country.
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"}
_REGION = re.compile(r"([A-Z]{2})-([A-Z0-9]{1,3})")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@cache
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> English name, by name."""
    names = Locale("en").territories
    return dict(sorted(((code, name) for code, name in names.items()
                        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES),
                       key=lambda pair: pair[1]))


def split_place(code: str) -> tuple[str, str] | None:
    """("US", "") for "US", ("US", "US-CA") for "US-CA"; None if it is neither
    a known country nor a region code (ISO 3166-2 form) of one."""
    code = code.strip().upper()
    if code in countries():
        return code, ""
    match = _REGION.fullmatch(code)
    if match and match.group(1) in countries():
        return match.group(1), code
    return None


# -- plain values: what checkout hands to pricing ---------------------------------------------------------------------

@dataclass(frozen=True)
class Address:
    """Where an order goes: a country (ISO 3166-1 alpha-2) and, when known, its
    region as ISO 3166-2 ("US-CA") or the part after the dash ("CA")."""

    country: str
    region: str = ""

    def region_code(self) -> str:
        country, region = self.country.strip().upper(), self.region.strip().upper()
        if not region:
            return ""
        return region if region.startswith(f"{country}-") else f"{country}-{region}"


@dataclass(frozen=True)
class Line:
    variant_id: int
    title: str
    quantity: int
    unit_price: int  # minor units, as the store enters prices (tax included or not: the store's setting)
    weight_grams: int = 0

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class Discount:
    """A discount code as pricing needs it (what discounts.check returns and quote.price takes)."""

    id: int
    code: str
    kind: str  # percentage | fixed | free_shipping
    value: int  # basis points (percentage), minor units (fixed), 0 (free shipping)
    minimum_subtotal: int = 0


# -- tables -----------------------------------------------------------------------------------------------------------

class ShippingZone(TenantModel):
    __tablename__ = "shipping_zones"
    __table_args__ = (
        sa.Index("shipping_zones_one_rest_of_world", "store_id", unique=True,
                 postgresql_where=sa.text("rest_of_world")),
    )

    name: Mapped[str] = mapped_column(sa.String(100))
    rest_of_world: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)


class ShippingZonePlace(TenantModel):
    __tablename__ = "shipping_zone_places"
    __table_args__ = (
        same_store_fk("zone_id", "shipping_zones", ondelete="CASCADE"),
        sa.UniqueConstraint("store_id", "country", "region"),
        sa.Index("shipping_zone_places_zone", "store_id", "zone_id"),
    )

    zone_id: Mapped[int] = mapped_column(sa.BigInteger)
    country: Mapped[str] = mapped_column(sa.String(2))
    region: Mapped[str] = mapped_column(sa.String(6), default="")  # '' = the whole country


class ShippingRate(TenantModel):
    __tablename__ = "shipping_rates"
    __table_args__ = (
        same_store_fk("zone_id", "shipping_zones", ondelete="CASCADE"),
        sa.CheckConstraint("kind IN ('flat', 'weight')", name="shipping_rates_kind"),
        sa.CheckConstraint(f"price BETWEEN 0 AND {MAX_AMOUNT}", name="shipping_rates_price"),
        sa.CheckConstraint(f"free_above IS NULL OR free_above BETWEEN 0 AND {MAX_AMOUNT}",
                           name="shipping_rates_free_above"),
        sa.Index("shipping_rates_zone", "store_id", "zone_id"),
    )

    zone_id: Mapped[int] = mapped_column(sa.BigInteger)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(8))
    price: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # flat rates
    brackets: Mapped[list] = mapped_column(JSONB, default=list)  # weight rates: [{"min", "max" | None, "price"}]
    free_above: Mapped[int | None] = mapped_column(sa.BigInteger)


class TaxRate(TenantModel):
    __tablename__ = "tax_rates"
    __table_args__ = (
        sa.UniqueConstraint("store_id", "country", "region"),
        sa.CheckConstraint(f"rate BETWEEN 0 AND {MAX_BASIS_POINTS}", name="tax_rates_rate"),
    )

    country: Mapped[str] = mapped_column(sa.String(2))
    region: Mapped[str] = mapped_column(sa.String(6), default="")  # '' = the country's own rate
    name: Mapped[str] = mapped_column(sa.String(60))
    rate: Mapped[int] = mapped_column(sa.Integer)  # basis points: 2000 = 20 %


class DiscountCode(TenantModel):
    __tablename__ = "discounts"
    __table_args__ = (
        sa.Index("discounts_code", "store_id", sa.text("lower(code)"), unique=True),
        sa.CheckConstraint("kind IN ('percentage', 'fixed', 'free_shipping')", name="discounts_kind"),
        sa.CheckConstraint(f"kind <> 'percentage' OR value BETWEEN 1 AND {MAX_BASIS_POINTS}",
                           name="discounts_percentage"),
        sa.CheckConstraint(f"kind <> 'fixed' OR value BETWEEN 1 AND {MAX_AMOUNT}", name="discounts_fixed"),
        sa.CheckConstraint(f"minimum_subtotal BETWEEN 0 AND {MAX_AMOUNT}", name="discounts_minimum"),
        sa.CheckConstraint("uses >= 0 AND (usage_limit IS NULL OR uses <= usage_limit)", name="discounts_uses"),
        sa.CheckConstraint("ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="discounts_window"),
    )

    code: Mapped[str] = mapped_column(sa.String(40))
    kind: Mapped[str] = mapped_column(sa.String(16))
    value: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # basis points, or minor units; 0 for free shipping
    minimum_subtotal: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    starts_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    usage_limit: Mapped[int | None] = mapped_column(sa.Integer)
    per_customer_limit: Mapped[int | None] = mapped_column(sa.Integer)
    uses: Mapped[int] = mapped_column(sa.Integer, default=0)
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(254))


class DiscountRedemption(TenantModel):
    """One order's use of a code; deleted again when the order is cancelled or its payment fails."""

    __tablename__ = "discount_redemptions"
    __table_args__ = (
        same_store_fk("discount_id", "discounts"),
        sa.UniqueConstraint("store_id", "order_ref"),
        sa.Index("discount_redemptions_customer", "store_id", "discount_id", "customer_key"),
    )

    discount_id: Mapped[int] = mapped_column(sa.BigInteger)
    customer_key: Mapped[str] = mapped_column(sa.String(320))
    order_ref: Mapped[str] = mapped_column(sa.String(100))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
