"""Catalog (products, options, variants, images, collections), inventory
(locations, levels, adjustments), the search outbox and CSV import jobs.

Revision ID: t0002
Revises: t0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from tenants.ddl import create_tenant_table

revision = "t0002"
down_revision = "t0001"
branch_labels = None
depends_on = None


def _ts(name):
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def _fk(columns, table, on_delete="CASCADE"):
    """Foreign keys stay inside one store: (store_id, x_id) -> (store_id, id)."""
    return sa.ForeignKeyConstraint(["store_id", *columns], [f"{table}.store_id", f"{table}.id"], ondelete=on_delete)


def upgrade():
    create_tenant_table(
        "products",
        sa.Column("handle", sa.String(255), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("description_html", sa.Text, nullable=False, server_default=""),
        sa.Column("vendor", sa.String(255), nullable=False, server_default=""),
        sa.Column("product_type", sa.String(255), nullable=False, server_default=""),
        sa.Column("tags", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("seo_title", sa.String(255), nullable=False, server_default=""),
        sa.Column("seo_description", sa.Text, nullable=False, server_default=""),
        _ts("created_at"), _ts("updated_at"),
        sa.UniqueConstraint("store_id", "handle"),
        sa.CheckConstraint("status IN ('draft', 'active', 'archived')", name="products_status"),
        sa.CheckConstraint("title <> ''", name="products_title"),
    )
    op.create_index("products_updated", "products", ["store_id", sa.text("updated_at DESC")])
    op.create_index("products_title", "products", ["store_id", sa.text("lower(title)")])
    op.create_index("products_vendor", "products", ["store_id", "vendor"])
    op.create_index("products_type", "products", ["store_id", "product_type"])
    op.create_index("products_tags", "products", ["tags"], postgresql_using="gin")

    create_tenant_table(
        "product_options",
        sa.Column("product_id", sa.BigInteger, nullable=False),
        sa.Column("position", sa.SmallInteger, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("values", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.UniqueConstraint("store_id", "product_id", "position"),
        sa.CheckConstraint("position BETWEEN 1 AND 3", name="product_options_position"),
        _fk(["product_id"], "products"),
    )
    create_tenant_table(
        "product_images",
        sa.Column("product_id", sa.BigInteger, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("alt", sa.String(512), nullable=False, server_default=""),
        sa.Column("storage_key", sa.Text, nullable=False),
        sa.Column("content_type", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("byte_size", sa.Integer, nullable=False),
        sa.Column("source_url", sa.Text, nullable=True),
        _ts("created_at"),
        _fk(["product_id"], "products"),
    )
    op.create_index("product_images_product", "product_images", ["store_id", "product_id", "position"])
    create_tenant_table(
        "variants",
        sa.Column("product_id", sa.BigInteger, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("option1", sa.String(255)),
        sa.Column("option2", sa.String(255)),
        sa.Column("option3", sa.String(255)),
        sa.Column("sku", sa.String(255)),
        sa.Column("barcode", sa.String(255), nullable=False, server_default=""),
        sa.Column("price", sa.BigInteger, nullable=False),
        sa.Column("compare_at_price", sa.BigInteger),
        sa.Column("weight_grams", sa.Integer, nullable=False, server_default="0"),
        sa.Column("track_inventory", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("low_stock_threshold", sa.Integer),
        sa.Column("image_id", sa.BigInteger),
        _ts("created_at"), _ts("updated_at"),
        sa.CheckConstraint("price >= 0", name="variants_price"),
        sa.CheckConstraint("compare_at_price IS NULL OR compare_at_price >= 0", name="variants_compare_at"),
        sa.CheckConstraint("weight_grams >= 0", name="variants_weight"),
        sa.CheckConstraint("low_stock_threshold IS NULL OR low_stock_threshold >= 0", name="variants_threshold"),
        _fk(["product_id"], "products"),
    )
    # Deleting an image clears only the variant's image_id, never its store_id.
    op.execute("ALTER TABLE variants ADD CONSTRAINT variants_image FOREIGN KEY (store_id, image_id) "
               "REFERENCES product_images (store_id, id) ON DELETE SET NULL (image_id)")
    op.execute("CREATE UNIQUE INDEX variants_sku ON variants (store_id, sku) WHERE sku IS NOT NULL")
    op.execute("CREATE UNIQUE INDEX variants_options ON variants (store_id, product_id, "
               "coalesce(option1, ''), coalesce(option2, ''), coalesce(option3, ''))")
    op.create_index("variants_product", "variants", ["store_id", "product_id", "position"])

    create_tenant_table(
        "collections",
        sa.Column("handle", sa.String(255), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("description_html", sa.Text, nullable=False, server_default=""),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("match_all", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("rules", JSONB, nullable=False, server_default="[]"),
        _ts("created_at"), _ts("updated_at"),
        sa.UniqueConstraint("store_id", "handle"),
        sa.CheckConstraint("kind IN ('manual', 'automated')", name="collections_kind"),
    )
    create_tenant_table(
        "collection_products",
        sa.Column("collection_id", sa.BigInteger, nullable=False),
        sa.Column("product_id", sa.BigInteger, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.UniqueConstraint("store_id", "collection_id", "product_id"),
        _fk(["collection_id"], "collections"),
        _fk(["product_id"], "products"),
    )

    create_tenant_table(
        "locations",
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("address", sa.Text, nullable=False, server_default=""),
        sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
        _ts("created_at"),
        sa.UniqueConstraint("store_id", "name"),
    )
    create_tenant_table(
        "inventory_levels",
        sa.Column("variant_id", sa.BigInteger, nullable=False),
        sa.Column("location_id", sa.BigInteger, nullable=False),
        sa.Column("on_hand", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reserved", sa.Integer, nullable=False, server_default="0"),
        _ts("updated_at"),
        sa.UniqueConstraint("store_id", "variant_id", "location_id"),
        sa.CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="inventory_reserved_within_on_hand"),
        _fk(["variant_id"], "variants"),
        _fk(["location_id"], "locations"),
    )
    create_tenant_table(
        "inventory_adjustments",
        sa.Column("variant_id", sa.BigInteger, nullable=False),
        sa.Column("location_id", sa.BigInteger, nullable=False),
        sa.Column("delta", sa.Integer, nullable=False),
        sa.Column("on_hand_after", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("actor", sa.String(254), nullable=False),
        _ts("created_at"),
        _fk(["variant_id"], "variants"),
        _fk(["location_id"], "locations"),
    )
    op.create_index("inventory_adjustments_recent", "inventory_adjustments",
                    ["store_id", "variant_id", sa.text("created_at DESC")])

    create_tenant_table(
        "search_outbox",
        sa.Column("product_id", sa.BigInteger, nullable=False),
        _ts("created_at"),
    )
    create_tenant_table(
        "import_jobs",
        sa.Column("token", sa.String(32), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="queued"),
        sa.Column("total_rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("processed_rows", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_products", sa.Integer, nullable=False, server_default="0"),
        sa.Column("updated_products", sa.Integer, nullable=False, server_default="0"),
        sa.Column("failed_products", sa.Integer, nullable=False, server_default="0"),
        sa.Column("report", JSONB, nullable=False, server_default="[]"),
        sa.Column("error", sa.Text, nullable=False, server_default=""),
        sa.Column("actor", sa.String(254), nullable=False),
        _ts("created_at"),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("store_id", "token"),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="import_jobs_status"),
    )


def downgrade():
    for table in ("import_jobs", "search_outbox", "inventory_adjustments", "inventory_levels", "locations",
                  "collection_products", "collections", "variants", "product_images", "product_options",
                  "products"):
        op.drop_table(table)
