"""Catalog fields Shopify exports carry that Vitrine kept losing: a product's
category; a variant's weight unit (for display: grams stay the weight), whether
it is taxed and its cost; the columns an import did not keep. SKUs may now be
shared by several variants, as in Shopify: their index stops being unique.

Revision ID: t0007
Revises: t0006
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "t0007"
down_revision = "t0006"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("products", sa.Column("category", sa.Text, nullable=False, server_default=""))
    op.add_column("variants", sa.Column("weight_unit", sa.String(2), nullable=False, server_default="g"))
    op.add_column("variants", sa.Column("taxable", sa.Boolean, nullable=False, server_default=sa.true()))
    op.add_column("variants", sa.Column("cost", sa.BigInteger))
    op.create_check_constraint("variants_weight_unit", "variants", "weight_unit IN ('g', 'kg', 'lb', 'oz')")
    op.create_check_constraint("variants_cost", "variants", "cost IS NULL OR cost >= 0")
    op.add_column("import_jobs", sa.Column("ignored_columns", JSONB, nullable=False, server_default="{}"))
    op.execute("DROP INDEX variants_sku")
    op.execute("CREATE INDEX variants_sku ON variants (store_id, sku) WHERE sku IS NOT NULL")


def downgrade():
    # Going back needs SKUs unique again: this fails, saying which, if variants share one.
    op.execute("DROP INDEX variants_sku")
    op.execute("CREATE UNIQUE INDEX variants_sku ON variants (store_id, sku) WHERE sku IS NOT NULL")
    op.drop_column("import_jobs", "ignored_columns")
    op.drop_constraint("variants_cost", "variants")
    op.drop_constraint("variants_weight_unit", "variants")
    for column in ("cost", "taxable", "weight_unit"):
        op.drop_column("variants", column)
    op.drop_column("products", "category")
