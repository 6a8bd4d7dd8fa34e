"""Indexes for the dashboard's product list: a full-text vector over title,
handle, vendor and type (word prefixes), SKU prefixes, and the levels that
have stock (the in/out-of-stock filters).

Revision ID: t0003
Revises: t0002
"""
from alembic import op

revision = "t0003"
down_revision = "t0002"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
        ALTER TABLE products ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
            to_tsvector('simple', title || ' ' || handle || ' ' || vendor || ' ' || product_type)) STORED
    """)
    op.execute("CREATE INDEX products_search ON products USING gin (search_vector)")
    op.execute("CREATE INDEX variants_sku_prefix ON variants (store_id, lower(sku) text_pattern_ops)")
    op.execute("CREATE INDEX inventory_levels_in_stock ON inventory_levels (store_id, variant_id, location_id) "
               "WHERE on_hand > reserved")


def downgrade():
    op.execute("DROP INDEX inventory_levels_in_stock")
    op.execute("DROP INDEX variants_sku_prefix")
    op.execute("ALTER TABLE products DROP COLUMN search_vector")
