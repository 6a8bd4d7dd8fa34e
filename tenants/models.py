"""The platform directory, in the public schema of the main database."""
from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from tenants.context import Placement

ROLES = ("owner", "admin", "staff")
TIERS = ("pooled", "dedicated")


def _now() -> datetime:
    return datetime.now().astimezone()


class Account(UserMixin, db.Model):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)

    memberships: Mapped[list[Membership]] = relationship(back_populates="account")


class Store(db.Model):
    __tablename__ = "stores"
    __table_args__ = (
        sa.ForeignKeyConstraint(["db_key", "schema_name"], ["tenant_schemas.db_key", "tenant_schemas.name"]),
        sa.Index("stores_schema", "db_key", "schema_name"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    handle: Mapped[str] = mapped_column(sa.String(40), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    currency: Mapped[str] = mapped_column(sa.String(3))
    # The CLDR locale amounts are shown and typed in (decimal comma or point, grouping).
    locale: Mapped[str] = mapped_column(sa.String(16), default="en_US")
    tier: Mapped[str] = mapped_column(sa.String(16))
    db_key: Mapped[str] = mapped_column(sa.String(40))
    schema_name: Mapped[str] = mapped_column(sa.String(63))
    status: Mapped[str] = mapped_column(sa.String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)

    domains: Mapped[list[Domain]] = relationship(back_populates="store", order_by="Domain.hostname")
    memberships: Mapped[list[Membership]] = relationship(back_populates="store")


DOMAIN_STATUSES = ("pending", "verified", "failed")


class Domain(db.Model):
    """A custom hostname; it answers for its store only while `verified`."""

    __tablename__ = "domains"
    __table_args__ = (sa.Index("domains_store", "store_id"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    hostname: Mapped[str] = mapped_column(sa.String(253), unique=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    verification_token: Mapped[str] = mapped_column(sa.String(64), default=lambda: secrets.token_hex(16))
    verified_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    checked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    failed_checks: Mapped[int] = mapped_column(sa.Integer, default=0)  # in a row, since the last success
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)

    store: Mapped[Store] = relationship(back_populates="domains")


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (sa.Index("memberships_store", "store_id"),)

    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)

    account: Mapped[Account] = relationship(back_populates="memberships")
    store: Mapped[Store] = relationship(back_populates="memberships")


class TenantSchema(db.Model):
    """A tenant schema on one database: a pool of small stores or one dedicated store."""

    __tablename__ = "tenant_schemas"
    __table_args__ = (sa.UniqueConstraint("db_key", "name"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    db_key: Mapped[str] = mapped_column(sa.String(40))
    name: Mapped[str] = mapped_column(sa.String(63))
    kind: Mapped[str] = mapped_column(sa.String(16))
    capacity: Mapped[int] = mapped_column(sa.Integer)
    store_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


def placement_of(store: Store) -> Placement:
    """Where a store's rows live, as the request and job contexts carry it."""
    return Placement(id=store.id, handle=store.handle, name=store.name, currency=store.currency,
                     tier=store.tier, db_key=store.db_key, schema=store.schema_name, status=store.status,
                     locale=store.locale)
