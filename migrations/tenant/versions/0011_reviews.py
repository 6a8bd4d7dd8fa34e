"""Product reviews, their helpful votes, and co-purchase counts.

`reviews` are written by a store's customers and shown once the merchant
approves them; `review_votes` remembers who found one helpful (once each);
`co_purchases` counts how often two products were ordered together, both
ways round, for "Customers also bought". A review outlives its customer's
account (its customer_id is cleared); a vote does not.

Revision ID: t0011
Revises: t0010
"""
import sqlalchemy as sa
from alembic import op

from tenants.ddl import create_tenant_table

revision = "t0011"
down_revision = "t0010"
branch_labels = None
depends_on = None


def _same_store_fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["store_id", column], [f"{table}.store_id", f"{table}.id"], ondelete="CASCADE")


def upgrade():
    create_tenant_table(
        "reviews",
        sa.Column("product_id", sa.BigInteger, nullable=False),
        sa.Column("customer_id", sa.BigInteger),
        sa.Column("author_name", sa.String(100), nullable=False),
        sa.Column("rating", sa.SmallInteger, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("photo_key", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("helpful_count", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("moderated_at", sa.DateTime(timezone=True)),
        sa.Column("moderated_by", sa.String(254)),
        _same_store_fk("product_id", "products"),
        sa.ForeignKeyConstraint(["store_id", "customer_id"], ["customers.store_id", "customers.id"],
                                name="reviews_customer", ondelete="SET NULL (customer_id)"),
        sa.UniqueConstraint("store_id", "product_id", "customer_id"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="reviews_rating"),
        sa.CheckConstraint("status IN ('pending', 'published', 'hidden')", name="reviews_status"),
        sa.CheckConstraint("length(body) BETWEEN 1 AND 5000", name="reviews_body"),
        sa.CheckConstraint("helpful_count >= 0", name="reviews_helpful_count"),
    )
    op.create_index("reviews_product", "reviews", ["store_id", "product_id", "status", "created_at"])
    op.create_index("reviews_moderation", "reviews", ["store_id", "status", "created_at"])
    create_tenant_table(
        "review_votes",
        sa.Column("review_id", sa.BigInteger, nullable=False),
        sa.Column("voter_id", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _same_store_fk("review_id", "reviews"),
        _same_store_fk("voter_id", "customers"),
        sa.UniqueConstraint("store_id", "review_id", "voter_id"),
    )
    create_tenant_table(
        "co_purchases",
        sa.Column("product_id", sa.BigInteger, nullable=False),
        sa.Column("other_id", sa.BigInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        _same_store_fk("product_id", "products"),
        sa.ForeignKeyConstraint(["store_id", "other_id"], ["products.store_id", "products.id"], ondelete="CASCADE",
                                name="co_purchases_other"),
        sa.UniqueConstraint("store_id", "product_id", "other_id"),
        sa.CheckConstraint("product_id <> other_id", name="co_purchases_pair"),
        sa.CheckConstraint("count > 0", name="co_purchases_count"),
    )


def downgrade():
    op.drop_table("co_purchases")
    op.drop_table("review_votes")
    op.drop_index("reviews_moderation", "reviews")
    op.drop_index("reviews_product", "reviews")
    op.drop_table("reviews")
