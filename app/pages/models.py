"""A store's static pages: about, contact, policies."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenants.tenant_model import TenantModel


def _now() -> datetime:
    return datetime.now().astimezone()


class Page(TenantModel):
    __tablename__ = "pages"
    __table_args__ = (sa.UniqueConstraint("store_id", "handle"),)

    handle: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str] = mapped_column(sa.String(255))
    body_html: Mapped[str] = mapped_column(sa.Text, default="")  # sanitized (app.catalog.sanitize)
    published: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    seo_description: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now, onupdate=_now)
