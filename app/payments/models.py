"""Payments (migration t0017): one row per payment attempt of an order (a
PaymentIntent at Stripe, or a manual payment), and the PSP's webhook events
already handled (each is processed once)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.catalog.models import same_store_fk
from tenants.tenant_model import TenantModel

PROVIDERS = ("stripe", "manual")
# The PSP's view, kept in step with it: requires_action (3-D Secure), authorized (requires_capture),
# captured, voided (cancelled before capture), failed (declined); awaiting/paid for manual payments.
STATUSES = ("pending", "requires_action", "authorized", "captured", "voided", "failed", "awaiting", "paid")


def _now() -> datetime:
    return datetime.now().astimezone()


class Payment(TenantModel):
    __tablename__ = "payments"
    __table_args__ = (
        same_store_fk("order_id", "orders", ondelete="CASCADE"),
        sa.Index("payments_order", "store_id", "order_id"),
        sa.Index("payments_intent", "store_id", "intent_id", unique=True,
                 postgresql_where=sa.text("intent_id IS NOT NULL")),
        sa.Index("payments_status", "store_id", "status", "updated_at"),
        sa.CheckConstraint(f"provider IN {PROVIDERS!r}", name="payments_provider"),
        sa.CheckConstraint(f"status IN {STATUSES!r}", name="payments_status"),
        sa.CheckConstraint("amount > 0 AND captured BETWEEN 0 AND amount AND refunded BETWEEN 0 AND captured",
                           name="payments_amounts"),
    )

    order_id: Mapped[int] = mapped_column(sa.BigInteger)
    provider: Mapped[str] = mapped_column(sa.String(16))
    intent_id: Mapped[str | None] = mapped_column(sa.String(255))  # the PaymentIntent, once Stripe made it
    idempotency_key: Mapped[str] = mapped_column(sa.String(255))  # what every call creating it sends to Stripe
    status: Mapped[str] = mapped_column(sa.String(24), default="pending")
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    captured: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    refunded: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    currency: Mapped[str] = mapped_column(sa.String(3))
    card: Mapped[str | None] = mapped_column(sa.String(64))  # "Visa •••• 4242"
    card_fingerprint: Mapped[str | None] = mapped_column(sa.String(64))  # velocity checks, never the number
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now, onupdate=_now)


class PaymentEvent(TenantModel):
    """A PSP webhook event that was handled: a replay finds it and does nothing."""

    __tablename__ = "payment_events"
    __table_args__ = (sa.UniqueConstraint("store_id", "event_id"),)

    event_id: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(80))
    received_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
