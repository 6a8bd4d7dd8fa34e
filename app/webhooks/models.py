"""Webhook endpoints, deliveries and the log of their attempts (migration t0016).

A delivery is one event for one endpoint. Its `webhook_id` is the same on
every retry (the X-Vitrine-Webhook-Id header), so a receiver can drop a
repeat; `next_attempt_at` is when it is due next, and a worker that claims
it pushes that forward by a lease first, so a worker that dies mid-post only
delays it.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.catalog.models import same_store_fk
from tenants.tenant_model import TenantModel

TOPICS = ("orders/create", "orders/paid", "orders/fulfilled", "orders/cancelled", "refunds/create")
ENDPOINT_STATUSES = ("active", "disabled")
DELIVERY_STATUSES = ("pending", "delivered", "failed")
MAX_URL_LENGTH = 2000
MAX_ERROR = 500
MAX_SNIPPET = 1000


def _now() -> datetime:
    return datetime.now().astimezone()


class WebhookEndpoint(TenantModel):
    """A URL the merchant registered, the topics it hears and its signing secret."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        sa.CheckConstraint("status IN ('active', 'disabled')", name="webhook_endpoints_status"),
        sa.CheckConstraint("cardinality(topics) >= 1", name="webhook_endpoints_topics"),
    )

    url: Mapped[str] = mapped_column(sa.String(2048))
    topics: Mapped[list[str]] = mapped_column(ARRAY(sa.String(32)))
    secret: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    consecutive_failures: Mapped[int] = mapped_column(sa.Integer, default=0)  # failed attempts since the last 2xx
    failing_since: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(500))
    last_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(sa.Integer)  # None with an attempt: no answer at all
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    created_by: Mapped[str] = mapped_column(sa.String(254))


class WebhookDelivery(TenantModel):
    """One event for one endpoint, until it is delivered or has failed for good."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        same_store_fk("endpoint_id", "webhook_endpoints", ondelete="CASCADE"),
        sa.UniqueConstraint("store_id", "webhook_id"),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="webhook_deliveries_status"),
        sa.Index("webhook_deliveries_due", "store_id", "next_attempt_at",
                 postgresql_where=sa.text("status = 'pending'")),
        sa.Index("webhook_deliveries_log", "store_id", "endpoint_id", "id"),
    )

    endpoint_id: Mapped[int] = mapped_column(sa.BigInteger)
    webhook_id: Mapped[str] = mapped_column(sa.String(36))
    topic: Mapped[str] = mapped_column(sa.String(32))
    payload: Mapped[dict] = mapped_column(JSONB)
    triggered_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))


class WebhookAttempt(TenantModel):
    """One POST of a delivery: what came back and how long it took."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        same_store_fk("delivery_id", "webhook_deliveries", ondelete="CASCADE"),
        sa.Index("webhook_attempts_delivery", "store_id", "delivery_id", "id"),
    )

    delivery_id: Mapped[int] = mapped_column(sa.BigInteger)
    attempted_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    duration_ms: Mapped[int] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.String(500))
    response_snippet: Mapped[str | None] = mapped_column(sa.String(1000))
