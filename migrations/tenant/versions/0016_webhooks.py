"""Merchant webhooks, and dead letters for the outbox.

`webhook_endpoints` holds the URLs a merchant registered (topics, signing
secret, whether it is disabled after failing too often); `webhook_deliveries`
one event for one endpoint (its webhook id stays the same across retries),
with its own back-off; `webhook_attempts` the log of each try.

`outbox` rows get their own back-off (`next_attempt_at`) and keep what went
wrong (`last_error`, `last_attempt_at`), so rows that failed MAX_ATTEMPTS
times can be listed, retried and discarded from the dashboard.

Revision ID: t0016
Revises: t0015
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from tenants.ddl import create_tenant_table

revision = "t0016"
down_revision = "t0015"
branch_labels = None
depends_on = None


def _same_store_fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["store_id", column], [f"{table}.store_id", f"{table}.id"], ondelete="CASCADE")


def upgrade():
    create_tenant_table(
        "webhook_endpoints",
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("topics", ARRAY(sa.String(32)), nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failing_since", sa.DateTime(timezone=True)),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
        sa.Column("disabled_reason", sa.String(500)),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.CheckConstraint("status IN ('active', 'disabled')", name="webhook_endpoints_status"),
        sa.CheckConstraint("cardinality(topics) >= 1", name="webhook_endpoints_topics"),
    )
    create_tenant_table(
        "webhook_deliveries",
        sa.Column("endpoint_id", sa.BigInteger, nullable=False),
        sa.Column("webhook_id", sa.String(36), nullable=False),
        sa.Column("topic", sa.String(32), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("triggered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("last_error", sa.String(500)),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        _same_store_fk("endpoint_id", "webhook_endpoints"),
        sa.UniqueConstraint("store_id", "webhook_id"),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="webhook_deliveries_status"),
    )
    op.create_index("webhook_deliveries_due", "webhook_deliveries", ["store_id", "next_attempt_at"],
                    postgresql_where=sa.text("status = 'pending'"))
    op.create_index("webhook_deliveries_log", "webhook_deliveries", ["store_id", "endpoint_id", "id"])
    create_tenant_table(
        "webhook_attempts",
        sa.Column("delivery_id", sa.BigInteger, nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("error", sa.String(500)),
        sa.Column("response_snippet", sa.String(1000)),
        _same_store_fk("delivery_id", "webhook_deliveries"),
    )
    op.create_index("webhook_attempts_delivery", "webhook_attempts", ["store_id", "delivery_id", "id"])

    op.add_column("outbox", sa.Column("next_attempt_at", sa.DateTime(timezone=True)))
    op.add_column("outbox", sa.Column("last_attempt_at", sa.DateTime(timezone=True)))
    op.add_column("outbox", sa.Column("last_error", sa.String(2000)))


def downgrade():
    op.drop_column("outbox", "last_error")
    op.drop_column("outbox", "last_attempt_at")
    op.drop_column("outbox", "next_attempt_at")
    op.drop_index("webhook_attempts_delivery", "webhook_attempts")
    op.drop_table("webhook_attempts")
    op.drop_index("webhook_deliveries_log", "webhook_deliveries")
    op.drop_index("webhook_deliveries_due", "webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
