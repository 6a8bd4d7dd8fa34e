"""Customer accounts of one store: the account, its addresses, its wishlist
and its password-reset links (migration t0010)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from tenants.tenant_model import TenantModel


def _now() -> datetime:
    return datetime.now().astimezone()


def _same_store_fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    """(store_id, column) -> table(store_id, id): references never leave the store."""
    return sa.ForeignKeyConstraint(["store_id", column], [f"{table}.store_id", f"{table}.id"], ondelete="CASCADE")


class Customer(TenantModel):
    """A shopper's account with one store; the same email at another store is another account."""

    __tablename__ = "customers"
    __table_args__ = (sa.UniqueConstraint("store_id", "email"),
                      sa.CheckConstraint("email = lower(email)", name="customers_email_lowercase"))

    email: Mapped[str] = mapped_column(sa.String(254))  # lowercased
    name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    # Part of every session of this customer: bumped, it ends them all (a password reset).
    session_version: Mapped[int] = mapped_column(sa.Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class CustomerAddress(TenantModel):
    __tablename__ = "customer_addresses"
    __table_args__ = (_same_store_fk("customer_id", "customers"),
                      sa.Index("customer_addresses_customer", "store_id", "customer_id"),
                      sa.Index("customer_addresses_default", "store_id", "customer_id", unique=True,
                               postgresql_where=sa.text("is_default")))

    customer_id: Mapped[int] = mapped_column(sa.BigInteger)
    name: Mapped[str] = mapped_column(sa.String(120))
    line1: Mapped[str] = mapped_column(sa.String(200))
    line2: Mapped[str] = mapped_column(sa.String(200), default="")
    city: Mapped[str] = mapped_column(sa.String(120))
    region: Mapped[str] = mapped_column(sa.String(120), default="")
    postal_code: Mapped[str] = mapped_column(sa.String(20), default="")
    country: Mapped[str] = mapped_column(sa.String(2))  # ISO 3166-1 alpha-2
    phone: Mapped[str] = mapped_column(sa.String(40), default="")
    is_default: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class WishlistItem(TenantModel):
    __tablename__ = "wishlist_items"
    __table_args__ = (sa.UniqueConstraint("store_id", "customer_id", "product_id"),
                      _same_store_fk("customer_id", "customers"),
                      _same_store_fk("product_id", "products"),
                      sa.Index("wishlist_items_product", "store_id", "product_id"))

    customer_id: Mapped[int] = mapped_column(sa.BigInteger)
    product_id: Mapped[int] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class CustomerResetToken(TenantModel):
    """A mailed password-reset link: only the token's hash is kept; it works once, until `expires_at`."""

    __tablename__ = "customer_reset_tokens"
    __table_args__ = (sa.UniqueConstraint("store_id", "token_hash"),
                      _same_store_fk("customer_id", "customers"),
                      sa.Index("customer_reset_tokens_customer", "store_id", "customer_id"))

    customer_id: Mapped[int] = mapped_column(sa.BigInteger)
    token_hash: Mapped[str] = mapped_column(sa.String(64))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
