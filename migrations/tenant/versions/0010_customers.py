"""Customer accounts of a store's storefront, their addresses, wishlists and
password-reset links.

Emails are kept lowercased (unique per store). `session_version` is part of
every customer session: bumping it (a password reset) ends them all. A
reset link's token is stored only as its hash and works once.

Revision ID: t0010
Revises: t0009
"""
import sqlalchemy as sa
from alembic import op

from tenants.ddl import create_tenant_table

revision = "t0010"
down_revision = "t0009"
branch_labels = None
depends_on = None


def _ts(name, nullable=False):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(column, table):
    """Foreign keys stay inside one store: (store_id, x_id) -> (store_id, id)."""
    return sa.ForeignKeyConstraint(["store_id", column], [f"{table}.store_id", f"{table}.id"], ondelete="CASCADE")


def upgrade():
    create_tenant_table(
        "customers",
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("session_version", sa.Integer, nullable=False, server_default="1"),
        _ts("created_at"),
        sa.UniqueConstraint("store_id", "email"),
        sa.CheckConstraint("email = lower(email)", name="customers_email_lowercase"),
    )
    create_tenant_table(
        "customer_addresses",
        sa.Column("customer_id", sa.BigInteger, nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("line1", sa.String(200), nullable=False),
        sa.Column("line2", sa.String(200), nullable=False, server_default=""),
        sa.Column("city", sa.String(120), nullable=False),
        sa.Column("region", sa.String(120), nullable=False, server_default=""),
        sa.Column("postal_code", sa.String(20), nullable=False, server_default=""),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("phone", sa.String(40), nullable=False, server_default=""),
        sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.false()),
        _ts("created_at"),
        _fk("customer_id", "customers"),
    )
    op.create_index("customer_addresses_customer", "customer_addresses", ["store_id", "customer_id"])
    op.create_index("customer_addresses_default", "customer_addresses", ["store_id", "customer_id"], unique=True,
                    postgresql_where=sa.text("is_default"))
    create_tenant_table(
        "wishlist_items",
        sa.Column("customer_id", sa.BigInteger, nullable=False),
        sa.Column("product_id", sa.BigInteger, nullable=False),
        _ts("created_at"),
        sa.UniqueConstraint("store_id", "customer_id", "product_id"),
        _fk("customer_id", "customers"),
        _fk("product_id", "products"),
    )
    op.create_index("wishlist_items_product", "wishlist_items", ["store_id", "product_id"])
    create_tenant_table(
        "customer_reset_tokens",
        sa.Column("customer_id", sa.BigInteger, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _ts("expires_at"),
        _ts("used_at", nullable=True),
        _ts("created_at"),
        sa.UniqueConstraint("store_id", "token_hash"),
        _fk("customer_id", "customers"),
    )
    op.create_index("customer_reset_tokens_customer", "customer_reset_tokens", ["store_id", "customer_id"])


def downgrade():
    op.drop_table("customer_reset_tokens")
    op.drop_table("wishlist_items")
    op.drop_table("customer_addresses")
    op.drop_table("customers")
