"""Orders and payments: orders with their lines, timeline, shipments and
refunds; payments (PaymentIntents, manual payments) and the PSP's webhook
events already handled; idempotency keys of checkouts.

Revision ID: t0017
Revises: t0016
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from tenants.ddl import create_tenant_table

revision = "t0017"
down_revision = "t0016"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ORDER_STATUSES = ("pending_payment", "payment_failed", "confirmed", "partially_fulfilled", "fulfilled", "delivered",
                  "cancelled", "refunded")
ORDER_PAYMENT_STATUSES = ("pending", "requires_action", "authorized", "awaiting", "paid", "partially_refunded",
                          "refunded", "voided", "failed")
PAYMENT_STATUSES = ("pending", "requires_action", "authorized", "captured", "voided", "failed", "awaiting", "paid")


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _order_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["store_id", "order_id"], ["orders.store_id", "orders.id"], ondelete="CASCADE")


def upgrade():
    create_tenant_table(
        "orders",
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("payment_status", sa.String(24), nullable=False),
        sa.Column("fulfillment_status", sa.String(16), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("customer_id", sa.BigInteger),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("subtotal", sa.BigInteger, nullable=False),
        sa.Column("discount_total", sa.BigInteger, nullable=False),
        sa.Column("shipping_total", sa.BigInteger, nullable=False),
        sa.Column("tax_total", sa.BigInteger, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("prices_include_tax", sa.Boolean, nullable=False),
        sa.Column("tax_lines", JSONB, nullable=False),
        sa.Column("discount_code", sa.String(64)),
        sa.Column("shipping_method", sa.String(120)),
        sa.Column("shipping_address", JSONB),
        sa.Column("billing_address", JSONB),
        sa.Column("payment_method", sa.String(16), nullable=False),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("cart_holder", sa.String(64)),
        sa.Column("client_ip", sa.String(64)),
        sa.Column("risk", JSONB),
        sa.Column("note", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("confirmed_at", TS),
        sa.Column("cancelled_at", TS),
        sa.UniqueConstraint("store_id", "token"),
        sa.CheckConstraint(_in("status", ORDER_STATUSES), name="orders_status"),
        sa.CheckConstraint(_in("payment_status", ORDER_PAYMENT_STATUSES), name="orders_payment_status"),
        sa.CheckConstraint(_in("fulfillment_status", ("unfulfilled", "partial", "fulfilled")),
                           name="orders_fulfillment_status"),
        sa.CheckConstraint("subtotal >= 0 AND discount_total >= 0 AND shipping_total >= 0 AND tax_total >= 0 "
                           "AND total >= 0", name="orders_amounts"),
    )
    op.create_index("orders_number", "orders", ["store_id", "number"], unique=True,
                    postgresql_where=sa.text("number IS NOT NULL"))
    op.create_index("orders_recent", "orders", ["store_id", sa.text("created_at DESC")])
    op.create_index("orders_customer", "orders", ["store_id", "customer_id", sa.text("created_at DESC")])
    create_tenant_table(
        "order_lines",
        sa.Column("order_id", sa.BigInteger, nullable=False),
        sa.Column("variant_id", sa.BigInteger),
        sa.Column("product_id", sa.BigInteger),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("variant_title", sa.String(300), nullable=False),
        sa.Column("sku", sa.String(120), nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("unit_price", sa.BigInteger, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("discount", sa.BigInteger, nullable=False),
        sa.Column("tax", sa.BigInteger, nullable=False),
        sa.Column("fulfilled", sa.Integer, nullable=False),
        sa.Column("refunded", sa.Integer, nullable=False),
        sa.Column("tracked", sa.Boolean, nullable=False),
        sa.Column("locations", JSONB, nullable=False),
        _order_fk(),
        sa.CheckConstraint("quantity > 0 AND unit_price >= 0 AND fulfilled BETWEEN 0 AND quantity "
                           "AND refunded BETWEEN 0 AND quantity", name="order_lines_quantities"),
    )
    op.create_index("order_lines_order", "order_lines", ["store_id", "order_id"])
    create_tenant_table(
        "order_events",
        sa.Column("order_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _order_fk(),
    )
    op.create_index("order_events_order", "order_events", ["store_id", "order_id", "id"])
    create_tenant_table(
        "shipments",
        sa.Column("order_id", sa.BigInteger, nullable=False),
        sa.Column("carrier", sa.String(80), nullable=False),
        sa.Column("tracking_number", sa.String(120), nullable=False),
        sa.Column("tracking_url", sa.String(2000), nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        _order_fk(),
    )
    op.create_index("shipments_order", "shipments", ["store_id", "order_id"])
    create_tenant_table(
        "refunds",
        sa.Column("order_id", sa.BigInteger, nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("restock", sa.Boolean, nullable=False),
        sa.Column("lines", JSONB, nullable=False),
        sa.Column("external_id", sa.String(255)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        _order_fk(),
        sa.CheckConstraint("amount > 0", name="refunds_amount"),
    )
    op.create_index("refunds_order", "refunds", ["store_id", "order_id"])
    create_tenant_table(
        "payments",
        sa.Column("order_id", sa.BigInteger, nullable=False),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("intent_id", sa.String(255)),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("amount", sa.BigInteger, nullable=False),
        sa.Column("captured", sa.BigInteger, nullable=False),
        sa.Column("refunded", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("card", sa.String(64)),
        sa.Column("card_fingerprint", sa.String(64)),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _order_fk(),
        sa.CheckConstraint("provider IN ('stripe', 'manual')", name="payments_provider"),
        sa.CheckConstraint(_in("status", PAYMENT_STATUSES), name="payments_status"),
        sa.CheckConstraint("amount > 0 AND captured BETWEEN 0 AND amount AND refunded BETWEEN 0 AND captured",
                           name="payments_amounts"),
    )
    op.create_index("payments_order", "payments", ["store_id", "order_id"])
    op.create_index("payments_intent", "payments", ["store_id", "intent_id"], unique=True,
                    postgresql_where=sa.text("intent_id IS NOT NULL"))
    op.create_index("payments_status", "payments", ["store_id", "status", "updated_at"])
    create_tenant_table(
        "payment_events",
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(80), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.UniqueConstraint("store_id", "event_id"),
    )
    create_tenant_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer),
        sa.Column("body", JSONB),
        sa.Column("claimed_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.UniqueConstraint("store_id", "scope", "key"),
    )
    op.create_index("idempotency_keys_expiry", "idempotency_keys", ["store_id", "expires_at"])


def downgrade():
    for table in ("idempotency_keys", "payment_events", "payments", "refunds", "shipments", "order_events",
                  "order_lines", "orders"):
        op.drop_table(table)
