"""Per-store tables that every store has from day one."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tenants.tenant_model import TenantModel


def _now() -> datetime:
    return datetime.now().astimezone()


class StoreSetting(TenantModel):
    __tablename__ = "store_settings"
    __table_args__ = (sa.UniqueConstraint("store_id", "key"),)

    key: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[object] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now, onupdate=_now)


class ActivityEvent(TenantModel):
    """The store's timeline: who did what, shown on the dashboard home."""

    __tablename__ = "activity_events"
    __table_args__ = (sa.Index("activity_events_recent", "store_id", sa.text("created_at DESC")),)

    actor: Mapped[str] = mapped_column(sa.String(254))
    verb: Mapped[str] = mapped_column(sa.String(64))
    summary: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
