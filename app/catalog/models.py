"""Catalog tables: products, their options, variants and images; collections."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenants.tenant_model import TenantModel

STATUSES = ("draft", "active", "archived")
MAX_OPTIONS = 3
# How a variant's weight is shown (Shopify's units); the weight itself is always kept in grams.
WEIGHT_UNITS = ("g", "kg", "lb", "oz")


def _now() -> datetime:
    return datetime.now().astimezone()


def same_store_fk(column: str, table: str, **kwargs) -> sa.ForeignKeyConstraint:
    """(store_id, column) -> table(store_id, id): references never leave the store."""
    return sa.ForeignKeyConstraint(["store_id", column], [f"{table}.store_id", f"{table}.id"], **kwargs)



class Product(TenantModel):
    __tablename__ = "products"
    __table_args__ = (
        sa.UniqueConstraint("store_id", "handle"),
        sa.Index("products_updated", "store_id", sa.text("updated_at DESC")),
        sa.Index("products_title", "store_id", sa.text("lower(title)")),
        sa.Index("products_vendor", "store_id", "vendor"),
        sa.Index("products_type", "store_id", "product_type"),
        sa.Index("products_tags", "tags", postgresql_using="gin"),
        sa.Index("products_search", "search_vector", postgresql_using="gin"),
    )

    handle: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str] = mapped_column(sa.String(255))
    description_html: Mapped[str] = mapped_column(sa.Text, default="")
    vendor: Mapped[str] = mapped_column(sa.String(255), default="")
    product_type: Mapped[str] = mapped_column(sa.String(255), default="")
    category: Mapped[str] = mapped_column(sa.Text, default="")  # Shopify's taxonomy path, kept as text
    tags: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    seo_title: Mapped[str] = mapped_column(sa.String(255), default="")
    seo_description: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now, onupdate=_now)
    # Maintained by PostgreSQL (migration t0003) for the dashboard's search.
    search_vector: Mapped[str] = mapped_column(
        TSVECTOR, sa.Computed("to_tsvector('simple', title || ' ' || handle || ' ' || vendor || ' ' || product_type)"),
        deferred=True)

    options: Mapped[list[ProductOption]] = relationship(
        order_by="ProductOption.position", cascade="all, delete-orphan", passive_deletes=True)
    variants: Mapped[list[Variant]] = relationship(
        order_by="Variant.position", cascade="all, delete-orphan", passive_deletes=True)
    images: Mapped[list[ProductImage]] = relationship(
        order_by="ProductImage.position", cascade="all, delete-orphan", passive_deletes=True)


class ProductOption(TenantModel):
    __tablename__ = "product_options"
    __table_args__ = (same_store_fk("product_id", "products", ondelete="CASCADE"),
                      sa.UniqueConstraint("store_id", "product_id", "position"))

    product_id: Mapped[int] = mapped_column(sa.BigInteger)
    position: Mapped[int] = mapped_column(sa.SmallInteger)
    name: Mapped[str] = mapped_column(sa.String(255))
    values: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), default=list)


class Variant(TenantModel):
    __tablename__ = "variants"
    __table_args__ = (
        same_store_fk("product_id", "products", ondelete="CASCADE"),
        # Deleting an image clears only the variant's image_id, never its store_id.
        same_store_fk("image_id", "product_images", name="variants_image", ondelete="SET NULL (image_id)"),
        # Not unique: Shopify lets two variants share a SKU, and so do we (the editor and imports warn).
        sa.Index("variants_sku", "store_id", "sku", postgresql_where=sa.text("sku IS NOT NULL")),
        sa.Index("variants_options", "store_id", "product_id", sa.text("coalesce(option1, '')"),
                 sa.text("coalesce(option2, '')"), sa.text("coalesce(option3, '')"), unique=True),
        sa.Index("variants_product", "store_id", "product_id", "position"),
    )

    product_id: Mapped[int] = mapped_column(sa.BigInteger)
    position: Mapped[int] = mapped_column(sa.Integer)
    option1: Mapped[str | None] = mapped_column(sa.String(255))
    option2: Mapped[str | None] = mapped_column(sa.String(255))
    option3: Mapped[str | None] = mapped_column(sa.String(255))
    sku: Mapped[str | None] = mapped_column(sa.String(255))
    barcode: Mapped[str] = mapped_column(sa.String(255), default="")
    price: Mapped[int] = mapped_column(sa.BigInteger)
    compare_at_price: Mapped[int | None] = mapped_column(sa.BigInteger)
    weight_grams: Mapped[int] = mapped_column(sa.Integer, default=0)
    weight_unit: Mapped[str] = mapped_column(sa.String(2), default="g")
    taxable: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    cost: Mapped[int | None] = mapped_column(sa.BigInteger)  # minor units of the store's currency
    track_inventory: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    # Add-to-carts pass the flash-sale gate first (app.inventory.gate).
    flash_sale: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    low_stock_threshold: Mapped[int | None] = mapped_column(sa.Integer)
    image_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now, onupdate=_now)

    @property
    def option_values(self) -> tuple[str, ...]:
        return tuple(v for v in (self.option1, self.option2, self.option3) if v is not None)

    @property
    def title(self) -> str:
        return " / ".join(self.option_values) or "Default"


# SKU prefix search (lower(sku) LIKE 'ab%') whatever the database's collation.
sa.Index("variants_sku_prefix", Variant.store_id, sa.func.lower(Variant.sku).label("sku_lower"),
         postgresql_ops={"sku_lower": "text_pattern_ops"})


class ProductImage(TenantModel):
    __tablename__ = "product_images"
    __table_args__ = (same_store_fk("product_id", "products", ondelete="CASCADE"),
                      sa.Index("product_images_product", "store_id", "product_id", "position"),
                      # Media requests and file clean-up look images up by key (migration t0006).
                      sa.Index("product_images_storage_key", "store_id", "storage_key"))

    product_id: Mapped[int] = mapped_column(sa.BigInteger)
    position: Mapped[int] = mapped_column(sa.Integer)
    alt: Mapped[str] = mapped_column(sa.String(512), default="")
    storage_key: Mapped[str] = mapped_column(sa.Text)
    content_type: Mapped[str] = mapped_column(sa.String(32))
    width: Mapped[int] = mapped_column(sa.Integer)
    height: Mapped[int] = mapped_column(sa.Integer)
    byte_size: Mapped[int] = mapped_column(sa.Integer)
    source_url: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class PendingImage(TenantModel):
    """An image URL a product should have but does not yet: queued by an
    import (fetched after the products land), or failed and kept to retry,
    to show in the editor and to export back, so the URL is never lost.

    `position` is the image's place in the file's order (1-based), `row` the
    CSV row that named it; `variant_ids` are the variants whose Variant Image
    it is, linked once it arrives. A failed one is retried at `retry_at`
    (with backoff) by the import sweep, or at once from the editor."""

    __tablename__ = "pending_images"
    __table_args__ = (same_store_fk("product_id", "products", ondelete="CASCADE"),
                      sa.UniqueConstraint("store_id", "product_id", "source_url"),
                      sa.CheckConstraint("status IN ('pending', 'failed')", name="pending_images_status"),
                      sa.Index("pending_images_job", "store_id", "job_id", "status"),
                      sa.Index("pending_images_retry", "store_id", "status", "retry_at"))

    product_id: Mapped[int] = mapped_column(sa.BigInteger)
    source_url: Mapped[str] = mapped_column(sa.Text)
    position: Mapped[int] = mapped_column(sa.Integer, default=1)
    alt: Mapped[str] = mapped_column(sa.String(512), default="")
    variant_ids: Mapped[list[int]] = mapped_column(ARRAY(sa.BigInteger), default=list)
    row: Mapped[int | None] = mapped_column(sa.Integer)
    job_id: Mapped[int | None] = mapped_column(sa.BigInteger)  # the import that fetches it; None: a retry
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    retry_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class Collection(TenantModel):
    __tablename__ = "collections"
    __table_args__ = (sa.UniqueConstraint("store_id", "handle"),)

    handle: Mapped[str] = mapped_column(sa.String(255))
    title: Mapped[str] = mapped_column(sa.String(255))
    description_html: Mapped[str] = mapped_column(sa.Text, default="")
    kind: Mapped[str] = mapped_column(sa.String(16))
    match_all: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    rules: Mapped[list] = mapped_column(JSONB, default=list)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now, onupdate=_now)


class CollectionProduct(TenantModel):
    __tablename__ = "collection_products"
    __table_args__ = (same_store_fk("collection_id", "collections", ondelete="CASCADE"),
                      same_store_fk("product_id", "products", ondelete="CASCADE"),
                      sa.UniqueConstraint("store_id", "collection_id", "product_id"))

    collection_id: Mapped[int] = mapped_column(sa.BigInteger)
    product_id: Mapped[int] = mapped_column(sa.BigInteger)
    position: Mapped[int] = mapped_column(sa.Integer)


class ImportJob(TenantModel):
    """A CSV import: its progress and, when done, the per-row report.

    It runs in steps (app.catalog.imports): each chunk of products commits
    together with its index in `done_chunks`, so a step that dies is resumed
    from the chunks it had not committed; the running step renews
    `heartbeat_at`, and a stale one tells the sweep that its worker died."""

    __tablename__ = "import_jobs"
    __table_args__ = (sa.UniqueConstraint("store_id", "token"),
                      sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')",
                                         name="import_jobs_status"))

    token: Mapped[str] = mapped_column(sa.String(32))
    filename: Mapped[str] = mapped_column(sa.String(255))
    status: Mapped[str] = mapped_column(sa.String(16), default="queued")
    total_rows: Mapped[int] = mapped_column(sa.Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_products: Mapped[int] = mapped_column(sa.Integer, default=0)
    updated_products: Mapped[int] = mapped_column(sa.Integer, default=0)
    failed_products: Mapped[int] = mapped_column(sa.Integer, default=0)
    total_products: Mapped[int] = mapped_column(sa.Integer, default=0)
    # Images are fetched after the products land (migration t0008): how many
    # the file queued, and how many were attached or failed so far.
    images_total: Mapped[int] = mapped_column(sa.Integer, default=0)
    images_done: Mapped[int] = mapped_column(sa.Integer, default=0)
    images_failed: Mapped[int] = mapped_column(sa.Integer, default=0)
    report: Mapped[list] = mapped_column(JSONB, default=list)
    # Columns of the file Vitrine does not keep -> how many non-blank cells they had.
    ignored_columns: Mapped[dict] = mapped_column(JSONB, default=dict)
    error: Mapped[str] = mapped_column(sa.Text, default="")
    actor: Mapped[str] = mapped_column(sa.String(254))
    upload_key: Mapped[str | None] = mapped_column(sa.Text)  # the file, in private upload storage, until done
    done_chunks: Mapped[list[int]] = mapped_column(ARRAY(sa.Integer), default=list)
    crashes: Mapped[int] = mapped_column(sa.Integer, default=0)  # steps whose worker died
    heartbeat_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    finished_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")

    @property
    def landed_products(self) -> int:
        """Products the import has finished with (created, updated or refused)."""
        return self.created_products + self.updated_products + self.failed_products

    @property
    def fetching_images(self) -> bool:
        """Every product has landed and the images are being fetched."""
        return self.active and self.total_products > 0 and self.landed_products >= self.total_products \
            and self.images_done < self.images_total
