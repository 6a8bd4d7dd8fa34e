"""Reviews of products by customers, helpful votes, and co-purchase counts (migration t0010)."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.catalog.models import same_store_fk
from tenants.tenant_model import TenantModel

STATUSES = ("pending", "published", "hidden")
MAX_BODY = 5_000
MAX_TITLE = 200
MAX_AUTHOR = 100


def _now() -> datetime:
    return datetime.now().astimezone()


class Review(TenantModel):
    """One customer's review of one product. Shoppers see it once `status`
    is "published"; `customer_id` is NULL only for reviews that came from
    elsewhere (an import), so the one-per-customer rule leaves those alone."""

    __tablename__ = "reviews"
    __table_args__ = (
        same_store_fk("product_id", "products", ondelete="CASCADE"),
        same_store_fk("customer_id", "customers", name="reviews_customer", ondelete="SET NULL (customer_id)"),
        sa.UniqueConstraint("store_id", "product_id", "customer_id"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="reviews_rating"),
        sa.CheckConstraint("status IN ('pending', 'published', 'hidden')", name="reviews_status"),
        sa.CheckConstraint(f"length(body) BETWEEN 1 AND {MAX_BODY}", name="reviews_body"),
        sa.CheckConstraint("helpful_count >= 0", name="reviews_helpful_count"),
        sa.Index("reviews_product", "store_id", "product_id", "status", "created_at"),
        sa.Index("reviews_moderation", "store_id", "status", "created_at"),
    )

    product_id: Mapped[int] = mapped_column(sa.BigInteger)
    customer_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    author_name: Mapped[str] = mapped_column(sa.String(MAX_AUTHOR))
    rating: Mapped[int] = mapped_column(sa.SmallInteger)
    title: Mapped[str] = mapped_column(sa.String(MAX_TITLE), default="")
    body: Mapped[str] = mapped_column(sa.Text)
    photo_key: Mapped[str | None] = mapped_column(sa.Text)  # app.catalog.images storage key of the original
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    helpful_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    moderated_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    moderated_by: Mapped[str | None] = mapped_column(sa.String(254))


class ReviewVote(TenantModel):
    """A customer found a review helpful (once: the unique key)."""

    __tablename__ = "review_votes"
    __table_args__ = (same_store_fk("review_id", "reviews", ondelete="CASCADE"),
                      same_store_fk("voter_id", "customers", ondelete="CASCADE"),
                      sa.UniqueConstraint("store_id", "review_id", "voter_id"))

    review_id: Mapped[int] = mapped_column(sa.BigInteger)
    voter_id: Mapped[int] = mapped_column(sa.BigInteger)  # the customer's id
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)


class CoPurchase(TenantModel):
    """How many orders held both products; kept both ways round (a, b) and (b, a)."""

    __tablename__ = "co_purchases"
    __table_args__ = (same_store_fk("product_id", "products", ondelete="CASCADE"),
                      same_store_fk("other_id", "products", ondelete="CASCADE", name="co_purchases_other"),
                      sa.UniqueConstraint("store_id", "product_id", "other_id"),
                      sa.CheckConstraint("product_id <> other_id", name="co_purchases_pair"),
                      sa.CheckConstraint("count > 0", name="co_purchases_count"))

    product_id: Mapped[int] = mapped_column(sa.BigInteger)
    other_id: Mapped[int] = mapped_column(sa.BigInteger)
    count: Mapped[int] = mapped_column(sa.Integer)
