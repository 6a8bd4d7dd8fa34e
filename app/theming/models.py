"""A store's themes: settings (draft and published) and template overrides."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tenants.tenant_model import TenantModel


def _now() -> datetime:
    return datetime.now().astimezone()


class StoreTheme(TenantModel):
    """A theme the store has opened in the customizer. `draft` and
    `published` are {"settings": {...}, "sections": [...]}; the live row
    (at most one) is what shoppers see once it has been published."""

    __tablename__ = "store_themes"
    __table_args__ = (sa.UniqueConstraint("store_id", "theme"),
                      sa.Index("store_themes_live", "store_id", unique=True, postgresql_where=sa.text("live")))

    theme: Mapped[str] = mapped_column(sa.String(64))
    draft: Mapped[dict] = mapped_column(JSONB)
    published: Mapped[dict | None] = mapped_column(JSONB)
    live: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    published_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now, onupdate=_now)


class TemplateOverride(TenantModel):
    """The store's own version of one of a theme's templates (sandboxed)."""

    __tablename__ = "template_overrides"
    __table_args__ = (sa.UniqueConstraint("store_id", "theme", "name"),)

    theme: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(128))
    source: Mapped[str] = mapped_column(sa.Text)
    updated_by: Mapped[str] = mapped_column(sa.String(254))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now, onupdate=_now)
