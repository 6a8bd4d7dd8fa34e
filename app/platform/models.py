"""Merchant sessions, links sent by mail, and staff invitations (public schema).

Secrets are never stored: a session cookie, a link or an invitation carries
a random token, and only its SHA-256 is kept here.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from tenants.models import Account, Store


def _now() -> datetime:
    return datetime.now().astimezone()


class AccountSession(db.Model):
    """One logged-in browser; it ends when revoked, idle or too old."""

    __tablename__ = "account_sessions"
    __table_args__ = (sa.Index("account_sessions_account", "account_id"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    last_seen_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ip_address: Mapped[str] = mapped_column(sa.String(64), default="")
    user_agent: Mapped[str] = mapped_column(sa.String(255), default="")


LINK_PURPOSES = ("signup", "reset")


class EmailLink(db.Model):
    """A single-use link mailed to prove an email: finishing a sign-up
    (name and password hash wait here until then) or resetting a password."""

    __tablename__ = "email_links"
    __table_args__ = (sa.Index("email_links_email", "email"),)

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    email: Mapped[str] = mapped_column(sa.String(254))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    account: Mapped[Account | None] = relationship()


class Invitation(db.Model):
    """An invitation to work on a store, pending until accepted or revoked.
    Its token is minted when the mail is sent (and again on each resend)."""

    __tablename__ = "invitations"
    __table_args__ = (
        sa.Index("invitations_store", "store_id"),
        # One open invitation per person and store: inviting again resends it.
        sa.Index("invitations_open", "store_id", "email", unique=True,
                 postgresql_where=sa.text("accepted_at IS NULL AND revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)
    store_id: Mapped[int] = mapped_column(sa.ForeignKey("stores.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(sa.String(254))
    role: Mapped[str] = mapped_column(sa.String(16))
    invited_by: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id", ondelete="SET NULL"))
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    accepted_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    store: Mapped[Store] = relationship()
    inviter: Mapped[Account | None] = relationship()

    @property
    def expired(self) -> bool:
        return self.expires_at <= _now()
