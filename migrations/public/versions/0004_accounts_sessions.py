"""Server-side sessions, sign-up confirmations, password resets and staff invitations.

Only SHA-256 hashes of session, link and invitation tokens are stored.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _ts(name, nullable=False):
    if nullable:
        return sa.Column(name, sa.DateTime(timezone=True))
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _account(name="account_id", nullable=False, ondelete="CASCADE"):
    return sa.Column(name, sa.BigInteger, sa.ForeignKey("accounts.id", ondelete=ondelete), nullable=nullable)


def upgrade():
    op.create_table(
        "account_sessions",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        _account(),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        _ts("created_at"),
        _ts("last_seen_at"),
        _ts("revoked_at", nullable=True),
        sa.Column("ip_address", sa.String(64), nullable=False, server_default=""),
        sa.Column("user_agent", sa.String(255), nullable=False, server_default=""),
    )
    op.create_index("account_sessions_account", "account_sessions", ["account_id"])
    op.create_table(
        "email_links",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("email", sa.String(254), nullable=False),
        _account(nullable=True),
        sa.Column("name", sa.String(120), nullable=False, server_default=""),
        sa.Column("password_hash", sa.String(255), nullable=False, server_default=""),
        _ts("created_at"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _ts("used_at", nullable=True),
        sa.CheckConstraint("purpose IN ('signup', 'reset')", name="email_links_purpose"),
        sa.CheckConstraint("purpose = 'signup' OR account_id IS NOT NULL", name="email_links_reset_account"),
    )
    op.create_index("email_links_email", "email_links", ["email"])
    op.create_table(
        "invitations",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("store_id", sa.BigInteger, sa.ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        _account("invited_by", nullable=True, ondelete="SET NULL"),
        sa.Column("token_hash", sa.String(64), unique=True),
        _ts("created_at"),
        _ts("sent_at", nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        _ts("accepted_at", nullable=True),
        _ts("revoked_at", nullable=True),
        sa.CheckConstraint("role IN ('admin', 'staff')", name="invitations_role"),
        sa.CheckConstraint("email = lower(email)", name="invitations_email_lowercase"),
    )
    op.create_index("invitations_store", "invitations", ["store_id"])
    # One open invitation per person and store: inviting again resends it.
    op.create_index("invitations_open", "invitations", ["store_id", "email"], unique=True,
                    postgresql_where=sa.text("accepted_at IS NULL AND revoked_at IS NULL"))


def downgrade():
    for table in ("invitations", "email_links", "account_sessions"):
        op.drop_table(table)
