"""Image URLs of an import kept while they cannot be fetched, to retry and to export back.

Imports fetch images after the products land: `pending_images` holds each
URL a product should have until it is attached, and a failed one with its
error and when to try again. The import job counts products (not rows) and
the images it queued, attached and failed.

Revision ID: t0008
Revises: t0007
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from tenants.ddl import create_tenant_table

revision = "t0008"
down_revision = "t0007"
branch_labels = None
depends_on = None

JOB_COUNTERS = ("total_products", "images_total", "images_done", "images_failed")


def upgrade():
    create_tenant_table(
        "pending_images",
        sa.Column("product_id", sa.BigInteger, nullable=False),
        sa.Column("source_url", sa.Text, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("alt", sa.String(512), nullable=False),
        sa.Column("variant_ids", ARRAY(sa.BigInteger), nullable=False),
        sa.Column("row", sa.Integer),
        sa.Column("job_id", sa.BigInteger),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("store_id", "product_id", "source_url"),
        sa.CheckConstraint("status IN ('pending', 'failed')", name="pending_images_status"),
        sa.ForeignKeyConstraint(["store_id", "product_id"], ["products.store_id", "products.id"],
                                ondelete="CASCADE"),
    )
    op.create_index("pending_images_job", "pending_images", ["store_id", "job_id", "status"])
    op.create_index("pending_images_retry", "pending_images", ["store_id", "status", "retry_at"])
    for column in JOB_COUNTERS:
        op.add_column("import_jobs", sa.Column(column, sa.Integer, nullable=False, server_default="0"))


def downgrade():
    for column in reversed(JOB_COUNTERS):
        op.drop_column("import_jobs", column)
    op.drop_table("pending_images")
