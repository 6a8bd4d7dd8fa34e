"""Orders (migration t0017): the order, its lines, its timeline, its
shipments and refunds.

An order is made `pending_payment` by the checkout with its stock held for
it; it gets its number (#1001, …) only once confirmed, so a store's numbers
have no gaps from failed payments. Amounts are minor units of `currency`.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import same_store_fk
from tenants.tenant_model import TenantModel

# pending_payment -> confirmed -> partially_fulfilled -> fulfilled -> delivered; refunded when all money went
# back; cancelled before fulfilment; payment_failed when the payment was declined (the shopper may try again).
STATUSES = ("pending_payment", "payment_failed", "confirmed", "partially_fulfilled", "fulfilled", "delivered",
            "cancelled", "refunded")
# pending: nothing asked yet; requires_action: 3-D Secure under way; authorized: held on the card;
# awaiting: a manual payment (bank transfer, cash on delivery) the merchant marks as paid.
PAYMENT_STATUSES = ("pending", "requires_action", "authorized", "awaiting", "paid", "partially_refunded",
                    "refunded", "voided", "failed")
FULFILMENT_STATUSES = ("unfulfilled", "partial", "fulfilled")
FIRST_NUMBER = 1001


def _now() -> datetime:
    return datetime.now().astimezone()


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Order(TenantModel):
    __tablename__ = "orders"
    __table_args__ = (
        sa.UniqueConstraint("store_id", "token"),
        sa.Index("orders_number", "store_id", "number", unique=True, postgresql_where=sa.text("number IS NOT NULL")),
        sa.Index("orders_recent", "store_id", sa.text("created_at DESC")),
        sa.Index("orders_customer", "store_id", "customer_id", sa.text("created_at DESC")),
        sa.CheckConstraint(_in("status", STATUSES), name="orders_status"),
        sa.CheckConstraint(_in("payment_status", PAYMENT_STATUSES), name="orders_payment_status"),
        sa.CheckConstraint(_in("fulfillment_status", FULFILMENT_STATUSES), name="orders_fulfillment_status"),
        sa.CheckConstraint("subtotal >= 0 AND discount_total >= 0 AND shipping_total >= 0 AND tax_total >= 0 "
                           "AND total >= 0", name="orders_amounts"),
    )

    token: Mapped[str] = mapped_column(sa.String(32))  # the shopper's opaque reference (status page, API)
    number: Mapped[int | None] = mapped_column(sa.Integer)  # given at confirmation
    status: Mapped[str] = mapped_column(sa.String(24), default="pending_payment")
    payment_status: Mapped[str] = mapped_column(sa.String(24), default="pending")
    fulfillment_status: Mapped[str] = mapped_column(sa.String(16), default="unfulfilled")
    email: Mapped[str] = mapped_column(sa.String(254))
    customer_id: Mapped[int | None] = mapped_column(sa.BigInteger)  # no FK: an order outlives its customer
    currency: Mapped[str] = mapped_column(sa.String(3))
    subtotal: Mapped[int] = mapped_column(sa.BigInteger)
    discount_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    shipping_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    tax_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    total: Mapped[int] = mapped_column(sa.BigInteger)
    prices_include_tax: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    tax_lines: Mapped[list] = mapped_column(JSONB, default=list)  # [{name, rate_bp, amount}]
    discount_code: Mapped[str | None] = mapped_column(sa.String(64))
    shipping_method: Mapped[str | None] = mapped_column(sa.String(120))
    shipping_address: Mapped[dict | None] = mapped_column(JSONB)
    billing_address: Mapped[dict | None] = mapped_column(JSONB)
    payment_method: Mapped[str] = mapped_column(sa.String(16))  # card | manual
    holder: Mapped[str] = mapped_column(sa.String(64))  # whose reservations hold its stock until confirmed
    cart_holder: Mapped[str | None] = mapped_column(sa.String(64))  # where the holds go back after a failure
    client_ip: Mapped[str | None] = mapped_column(sa.String(64))
    risk: Mapped[dict | None] = mapped_column(JSONB)
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now, onupdate=_now)
    confirmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Read once per transaction, however often asked (the checkout's answer, its webhooks).
    # View-only: the checkout writes the lines once, when it makes the order.
    lines: Mapped[list[OrderLine]] = relationship(order_by="OrderLine.id", viewonly=True)

    @property
    def name(self) -> str:
        """#1001 once confirmed; before that the start of its token."""
        return f"#{self.number}" if self.number else f"Checkout {self.token[:8]}"

    @property
    def held_for_review(self) -> bool:
        """Held by the fraud rules (app.orders.risk) and not yet approved or rejected: not to be captured.
        Here, not in risk, so the lifecycle's capture can ask without importing the fraud rules."""
        risk = self.risk or {}
        return (risk.get("level") == "review" and not risk.get("review")
                and self.status not in ("pending_payment", "payment_failed", "cancelled", "refunded"))


class OrderLine(TenantModel):
    __tablename__ = "order_lines"
    __table_args__ = (
        same_store_fk("order_id", "orders", ondelete="CASCADE"),
        sa.Index("order_lines_order", "store_id", "order_id"),
        sa.CheckConstraint("quantity > 0 AND unit_price >= 0 AND fulfilled BETWEEN 0 AND quantity "
                           "AND refunded BETWEEN 0 AND quantity", name="order_lines_quantities"),
    )

    order_id: Mapped[int] = mapped_column(sa.BigInteger)
    variant_id: Mapped[int | None] = mapped_column(sa.BigInteger)  # no FK: the line outlives the product
    product_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    title: Mapped[str] = mapped_column(sa.String(300))
    variant_title: Mapped[str] = mapped_column(sa.String(300), default="")
    sku: Mapped[str] = mapped_column(sa.String(120), default="")
    quantity: Mapped[int] = mapped_column(sa.Integer)
    unit_price: Mapped[int] = mapped_column(sa.BigInteger)
    total: Mapped[int] = mapped_column(sa.BigInteger)  # quantity x unit price
    discount: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # its share of the order's discount
    tax: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    fulfilled: Mapped[int] = mapped_column(sa.Integer, default=0)
    refunded: Mapped[int] = mapped_column(sa.Integer, default=0)
    tracked: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    locations: Mapped[list] = mapped_column(JSONB, default=list)  # [[location_id, units]] its stock came from


class OrderEvent(TenantModel):
    """The order's timeline: what happened, who did it, when."""

    __tablename__ = "order_events"
    __table_args__ = (same_store_fk("order_id", "orders", ondelete="CASCADE"),
                      sa.Index("order_events_order", "store_id", "order_id", "id"))

    order_id: Mapped[int] = mapped_column(sa.BigInteger)
    kind: Mapped[str] = mapped_column(sa.String(32))
    message: Mapped[str] = mapped_column(sa.Text)
    actor: Mapped[str] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class Shipment(TenantModel):
    __tablename__ = "shipments"
    __table_args__ = (same_store_fk("order_id", "orders", ondelete="CASCADE"),
                      sa.Index("shipments_order", "store_id", "order_id"))

    order_id: Mapped[int] = mapped_column(sa.BigInteger)
    carrier: Mapped[str] = mapped_column(sa.String(80), default="")
    tracking_number: Mapped[str] = mapped_column(sa.String(120), default="")
    tracking_url: Mapped[str] = mapped_column(sa.String(2000), default="")
    lines: Mapped[list] = mapped_column(JSONB, default=list)  # [[order_line_id, units]]
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    created_by: Mapped[str] = mapped_column(sa.String(254))


class Refund(TenantModel):
    __tablename__ = "refunds"
    __table_args__ = (same_store_fk("order_id", "orders", ondelete="CASCADE"),
                      sa.Index("refunds_order", "store_id", "order_id"),
                      sa.CheckConstraint("amount > 0", name="refunds_amount"))

    order_id: Mapped[int] = mapped_column(sa.BigInteger)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    restock: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    lines: Mapped[list] = mapped_column(JSONB, default=list)  # [[order_line_id, units]]
    external_id: Mapped[str | None] = mapped_column(sa.String(255))  # the PSP's refund id
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    created_by: Mapped[str] = mapped_column(sa.String(254))
