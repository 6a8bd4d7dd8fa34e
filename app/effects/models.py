"""Outbox rows: effects recorded by a transaction, waiting for a handler."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from tenants.tenant_model import TenantModel


def _now() -> datetime:
    return datetime.now().astimezone()


class Outbox(TenantModel):
    """A store's pending effects, in its tenant schema (they move with it).
    A row that failed waits until `next_attempt_at`; one that failed
    EFFECTS_MAX_ATTEMPTS times is a dead letter (app.effects.dead_letters)."""

    __tablename__ = "outbox"
    __table_args__ = (sa.Index("outbox_topic", "store_id", "topic", "id"),)

    topic: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    next_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))  # None: due now
    last_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(sa.String(2000))


class PlatformOutbox(db.Model):
    """Pending effects of directory transactions (no store): mails to merchants."""

    __tablename__ = "platform_outbox"
    __table_args__ = (sa.Index("platform_outbox_topic", "topic", "id"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    topic: Mapped[str] = mapped_column(sa.String(64))
    payload: Mapped[dict] = mapped_column(JSONB)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
