"""One outbox for every side effect of a store's transactions (search index
updates, alerts, mails, webhooks), replacing the search-only outbox.

Revision ID: t0004
Revises: t0003
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from tenants.ddl import create_tenant_table

revision = "t0004"
down_revision = "t0003"
branch_labels = None
depends_on = None


def upgrade():
    create_tenant_table(
        "outbox",
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("outbox_topic", "outbox", ["store_id", "topic", "id"])
    op.execute("INSERT INTO outbox (store_id, topic, payload, created_at) "
               "SELECT store_id, 'product.changed', jsonb_build_object('product_id', product_id), created_at "
               "FROM search_outbox")
    op.drop_table("search_outbox")


def downgrade():
    raise NotImplementedError("t0004 is not reversible: the search outbox's rows now live in outbox")
