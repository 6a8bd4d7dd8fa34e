"""The platform directory: accounts, stores, domains, memberships, tenant schemas.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ts(name="created_at"):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade():
    op.create_table(
        "accounts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        _ts(),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
    )
    op.create_table(
        "tenant_schemas",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("db_key", sa.String(40), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("store_count", sa.Integer, nullable=False, server_default="0"),
        _ts(),
        sa.UniqueConstraint("db_key", "name"),
        sa.CheckConstraint("kind IN ('pooled', 'dedicated')", name="kind_known"),
        sa.CheckConstraint("store_count BETWEEN 0 AND capacity", name="within_capacity"),
        sa.CheckConstraint("name ~ '^(pool|store)_[0-9a-z_]{1,50}$'", name="name_pattern"),
    )
    op.create_table(
        "stores",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("handle", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("db_key", sa.String(40), nullable=False),
        sa.Column("schema_name", sa.String(63), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        _ts(),
        sa.CheckConstraint("tier IN ('pooled', 'dedicated')", name="tier_known"),
        sa.CheckConstraint("handle ~ '^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$'", name="handle_pattern"),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_iso"),
        sa.ForeignKeyConstraint(["db_key", "schema_name"], ["tenant_schemas.db_key", "tenant_schemas.name"]),
    )
    op.create_index("stores_schema", "stores", ["db_key", "schema_name"])
    op.create_table(
        "domains",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("hostname", sa.String(253), nullable=False, unique=True),
        sa.Column("store_id", sa.BigInteger, sa.ForeignKey("stores.id", ondelete="CASCADE"), nullable=False),
        _ts(),
        sa.CheckConstraint("hostname = lower(hostname)", name="hostname_lowercase"),
    )
    op.create_index("domains_store", "domains", ["store_id"])
    op.create_table(
        "memberships",
        sa.Column("account_id", sa.BigInteger, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("store_id", sa.BigInteger, sa.ForeignKey("stores.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        _ts(),
        sa.CheckConstraint("role IN ('owner', 'admin', 'staff')", name="role_known"),
    )
    op.create_index("memberships_store", "memberships", ["store_id"])


def downgrade():
    for table in ("memberships", "domains", "stores", "tenant_schemas", "accounts"):
        op.drop_table(table)
