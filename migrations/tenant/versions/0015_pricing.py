"""Pricing rules for checkout: shipping zones, their places and rates; tax
rates; discount codes and their redemptions (app.checkout.models).

Revision ID: t0015
Revises: t0014
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from tenants.ddl import create_tenant_table

revision = "t0015"
down_revision = "t0014"
branch_labels = None
depends_on = None

MAX_AMOUNT = 10**15 - 1  # app.money.MAX_AMOUNT, written out: a migration does not move with the code
MAX_BASIS_POINTS = 10_000


def _same_store_fk(column: str, table: str, **kwargs) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["store_id", column], [f"{table}.store_id", f"{table}.id"], **kwargs)


def _now_column() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), nullable=False)


def _shipping():
    create_tenant_table(
        "shipping_zones",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("rest_of_world", sa.Boolean, nullable=False),
        _now_column(),
    )
    op.create_index("shipping_zones_one_rest_of_world", "shipping_zones", ["store_id"], unique=True,
                    postgresql_where=sa.text("rest_of_world"))
    create_tenant_table(
        "shipping_zone_places",
        sa.Column("zone_id", sa.BigInteger, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        _same_store_fk("zone_id", "shipping_zones", ondelete="CASCADE"),
        sa.UniqueConstraint("store_id", "country", "region"),
    )
    op.create_index("shipping_zone_places_zone", "shipping_zone_places", ["store_id", "zone_id"])
    create_tenant_table(
        "shipping_rates",
        sa.Column("zone_id", sa.BigInteger, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("price", sa.BigInteger, nullable=False),
        sa.Column("brackets", JSONB, nullable=False),
        sa.Column("free_above", sa.BigInteger),
        _same_store_fk("zone_id", "shipping_zones", ondelete="CASCADE"),
        sa.CheckConstraint("kind IN ('flat', 'weight')", name="shipping_rates_kind"),
        sa.CheckConstraint(f"price BETWEEN 0 AND {MAX_AMOUNT}", name="shipping_rates_price"),
        sa.CheckConstraint(f"free_above IS NULL OR free_above BETWEEN 0 AND {MAX_AMOUNT}",
                           name="shipping_rates_free_above"),
    )
    op.create_index("shipping_rates_zone", "shipping_rates", ["store_id", "zone_id"])


def _taxes():
    create_tenant_table(
        "tax_rates",
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(6), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("rate", sa.Integer, nullable=False),
        sa.UniqueConstraint("store_id", "country", "region"),
        sa.CheckConstraint(f"rate BETWEEN 0 AND {MAX_BASIS_POINTS}", name="tax_rates_rate"),
    )


def _discounts():
    create_tenant_table(
        "discounts",
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.Column("minimum_subtotal", sa.BigInteger, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True)),
        sa.Column("ends_at", sa.DateTime(timezone=True)),
        sa.Column("usage_limit", sa.Integer),
        sa.Column("per_customer_limit", sa.Integer),
        sa.Column("uses", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        _now_column(),
        sa.Column("created_by", sa.String(254), nullable=False),
        sa.CheckConstraint("kind IN ('percentage', 'fixed', 'free_shipping')", name="discounts_kind"),
        sa.CheckConstraint(f"kind <> 'percentage' OR value BETWEEN 1 AND {MAX_BASIS_POINTS}",
                           name="discounts_percentage"),
        sa.CheckConstraint(f"kind <> 'fixed' OR value BETWEEN 1 AND {MAX_AMOUNT}", name="discounts_fixed"),
        sa.CheckConstraint(f"minimum_subtotal BETWEEN 0 AND {MAX_AMOUNT}", name="discounts_minimum"),
        sa.CheckConstraint("uses >= 0 AND (usage_limit IS NULL OR uses <= usage_limit)", name="discounts_uses"),
        sa.CheckConstraint("ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="discounts_window"),
    )
    op.create_index("discounts_code", "discounts", ["store_id", sa.text("lower(code)")], unique=True)
    create_tenant_table(
        "discount_redemptions",
        sa.Column("discount_id", sa.BigInteger, nullable=False),
        sa.Column("customer_key", sa.String(320), nullable=False),
        sa.Column("order_ref", sa.String(100), nullable=False),
        _now_column(),
        _same_store_fk("discount_id", "discounts"),
        sa.UniqueConstraint("store_id", "order_ref"),
    )
    op.create_index("discount_redemptions_customer", "discount_redemptions",
                    ["store_id", "discount_id", "customer_key"])


def upgrade():
    _shipping()
    _taxes()
    _discounts()


def downgrade():
    for table in ("discount_redemptions", "discounts", "tax_rates", "shipping_rates", "shipping_zone_places",
                  "shipping_zones"):
        op.drop_table(table)
