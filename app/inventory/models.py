"""Inventory tables: locations, a level per variant per location, and the
adjustment history that explains every change to on_hand."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.catalog.models import same_store_fk
from tenants.tenant_model import TenantModel

REASONS = {
    "received": "Received",
    "correction": "Correction (count)",
    "damaged": "Damaged",
    "shrinkage": "Theft or loss",
    "returned": "Returned by customer",
    "promotion": "Promotion or donation",
    "import": "CSV import",
}
# Changes orders make (never chosen by hand): a sale takes the units, a cancellation or a refund may put them back.
ORDER_REASONS = {"sold": "Sold", "restocked": "Back from an order"}
REASON_LABELS = {**REASONS, **ORDER_REASONS}


def _now() -> datetime:
    return datetime.now().astimezone()


# A new location goes last: one more than the store's highest priority (RLS keeps the max to this store).
_LAST = sa.text("(SELECT coalesce(max(priority), 0) + 1 FROM locations)")


class Location(TenantModel):
    __tablename__ = "locations"
    __table_args__ = (sa.UniqueConstraint("store_id", "name"),
                      sa.Index("locations_priority", "store_id", "priority", "id"))

    name: Mapped[str] = mapped_column(sa.String(120))
    # Where stock is taken from first (1 = first); ties, if any, go by id.
    priority: Mapped[int] = mapped_column(sa.Integer, default=_LAST)
    address: Mapped[str] = mapped_column(sa.Text, default="")
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class InventoryLevel(TenantModel):
    __tablename__ = "inventory_levels"
    __table_args__ = (
        same_store_fk("variant_id", "variants", ondelete="CASCADE"),
        same_store_fk("location_id", "locations", ondelete="CASCADE"),
        sa.UniqueConstraint("store_id", "variant_id", "location_id"),
        # The levels that have stock, for the in/out-of-stock filters.
        sa.Index("inventory_levels_in_stock", "store_id", "variant_id", "location_id",
                 postgresql_where=sa.text("on_hand > reserved")),
    )

    variant_id: Mapped[int] = mapped_column(sa.BigInteger)
    location_id: Mapped[int] = mapped_column(sa.BigInteger)
    on_hand: Mapped[int] = mapped_column(sa.Integer, default=0)
    reserved: Mapped[int] = mapped_column(sa.Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now, onupdate=_now)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class InventoryAdjustment(TenantModel):
    __tablename__ = "inventory_adjustments"
    __table_args__ = (same_store_fk("variant_id", "variants", ondelete="CASCADE"),
                      same_store_fk("location_id", "locations", ondelete="CASCADE"),
                      sa.Index("inventory_adjustments_recent", "store_id", "variant_id", sa.text("created_at DESC")))

    variant_id: Mapped[int] = mapped_column(sa.BigInteger)
    location_id: Mapped[int] = mapped_column(sa.BigInteger)
    delta: Mapped[int] = mapped_column(sa.Integer)
    on_hand_after: Mapped[int] = mapped_column(sa.Integer)
    reason: Mapped[str] = mapped_column(sa.String(32))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    actor: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class Reservation(TenantModel):
    """Units of a variant at a location held for a holder (a cart) until
    `expires_at`; the rows of a level add up to its `reserved`."""

    __tablename__ = "reservations"
    __table_args__ = (
        same_store_fk("variant_id", "variants", ondelete="CASCADE"),
        same_store_fk("location_id", "locations", ondelete="CASCADE"),
        sa.UniqueConstraint("store_id", "holder", "variant_id", "location_id"),
        sa.CheckConstraint("quantity > 0", name="reservations_quantity"),
        sa.Index("reservations_expiry", "store_id", "expires_at"),
        sa.Index("reservations_variant", "store_id", "variant_id", "expires_at"),
    )

    holder: Mapped[str] = mapped_column(sa.String(64))
    variant_id: Mapped[int] = mapped_column(sa.BigInteger)
    location_id: Mapped[int] = mapped_column(sa.BigInteger)
    quantity: Mapped[int] = mapped_column(sa.Integer)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now, onupdate=_now)
