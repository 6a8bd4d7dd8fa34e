"""Products as the JSON API shows them: the listing query and the shape.

Only active products are ever read. The search index only *finds*: it gives
candidate ids in relevance order, and the database decides what is shown, so
a product unpublished a moment ago never leaks through a stale index.
Availability is a boolean per variant; stock counts never leave this module.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import selectinload

from app.api.errors import bool_parameter, not_found, text_parameter
from app.catalog import images
from app.catalog.collections import products_query
from app.catalog.models import Collection, Product, ProductImage, ProductOption, Variant
from app.extensions import db
from app.inventory.service import available as units_available
from app.inventory.service import sellable_products
from app.money import format_money
from app.pagination import Page, paginate
from app.search.service import search
from tenants.context import require_store

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_QUERY_LENGTH = 200
SEARCH_BATCH = 1000


@dataclass(frozen=True)
class ProductFilters:
    vendor: str | None = None
    product_type: str | None = None
    tag: str | None = None
    collection: str | None = None
    q: str | None = None
    available: bool | None = None

    @classmethod
    def from_args(cls, args: Mapping) -> ProductFilters:
        return cls(vendor=text_parameter(args, "vendor"), product_type=text_parameter(args, "product_type"),
                   tag=text_parameter(args, "tag"), collection=text_parameter(args, "collection"),
                   q=text_parameter(args, "q", max_length=MAX_QUERY_LENGTH),
                   available=bool_parameter(args, "available"))


def _with_children(query):
    return query.options(selectinload(Product.options), selectinload(Product.variants),
                         selectinload(Product.images))


def _lower_equals(column, value: str):
    return sa.func.lower(column) == value.lower()


def _has_tag(tag: str):
    return (sa.select(sa.literal(1)).select_from(sa.func.unnest(Product.tags).alias("tag"))
            .where(sa.func.lower(sa.column("tag")) == tag.lower()).exists())


def _available_condition():
    return Product.id.in_(sellable_products())


def _search_ids(text: str) -> list[int]:
    """Every active match in the index, best first."""
    hits = search(text, per_page=SEARCH_BATCH)
    if hits.total > len(hits.product_ids):
        hits = search(text, per_page=hits.total)
    return hits.product_ids


def _collection(handle: str) -> Collection:
    collection = db.session.scalar(sa.select(Collection).where(Collection.handle == handle))
    if collection is None:
        raise not_found(f"No collection “{handle}” in this store.")
    return collection


def _listing(filters: ProductFilters):
    """The filtered, ordered select of active products, or None when a search matched nothing."""
    if filters.collection:
        query = products_query(_collection(filters.collection))  # in collection order
    else:
        query = sa.select(Product).order_by(Product.created_at.desc())
    query = query.where(Product.status == "active")
    if filters.vendor:
        query = query.where(_lower_equals(Product.vendor, filters.vendor))
    if filters.product_type:
        query = query.where(_lower_equals(Product.product_type, filters.product_type))
    if filters.tag:
        query = query.where(_has_tag(filters.tag))
    if filters.available is not None:
        condition = _available_condition()
        query = query.where(condition if filters.available else sa.not_(condition))
    if filters.q:
        ids = _search_ids(filters.q)
        if not ids:
            return None
        ranked = sa.literal(ids, ARRAY(sa.BigInteger))
        query = (query.where(Product.id == sa.any_(ranked)).order_by(None)
                 .order_by(sa.func.array_position(ranked, Product.id)))
    return query.order_by(Product.id.desc())  # the tie-breaker that makes pages stable


def list_products(filters: ProductFilters, *, page: int, limit: int) -> tuple[Page[Product], dict[int, int]]:
    """A page of products and the stock of their tracked variants."""
    query = _listing(filters)
    if query is None:
        return Page([], 0, page, limit), {}
    found = paginate(_with_children(query), page=page, per_page=limit)
    return found, _stock(found.items)


def get_product(handle: str) -> tuple[Product, dict[int, int]]:
    product = db.session.scalar(_with_children(
        sa.select(Product).where(Product.handle == handle, Product.status == "active")))
    if product is None:
        raise not_found(f"No product “{handle}” in this store.")
    return product, _stock([product])


def _stock(products: list[Product]) -> dict[int, int]:
    """Units per tracked variant, for every product of a page in one query."""
    return units_available([v.id for p in products for v in p.variants if v.track_inventory])


# --- the JSON shape ---------------------------------------------------------

def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def money_json(amount: int | None, currency: str) -> dict | None:
    """`amount` in minor units; `formatted` for people, in the store's locale."""
    if amount is None:
        return None
    return {"amount": amount, "currency": currency,
            "formatted": format_money(amount, currency, require_store().locale)}


def _variant_available(variant: Variant, stock: dict[int, int]) -> bool:
    return not variant.track_inventory or stock.get(variant.id, 0) > 0


def variant_json(variant: Variant, stock: dict[int, int], currency: str) -> dict:
    return {
        "id": variant.id,
        "title": variant.title,
        "option1": variant.option1,
        "option2": variant.option2,
        "option3": variant.option3,
        "sku": variant.sku,
        "barcode": variant.barcode,
        "price": money_json(variant.price, currency),
        "compare_at_price": money_json(variant.compare_at_price, currency),
        "weight_grams": variant.weight_grams,
        "available": _variant_available(variant, stock),
        "image_id": variant.image_id,
    }


def option_json(option: ProductOption) -> dict:
    return {"name": option.name, "position": option.position, "values": list(option.values)}


def image_json(image: ProductImage, base_url: str) -> dict:
    root = base_url.rstrip("/")
    return {
        "id": image.id,
        "position": image.position,
        "alt": image.alt,
        "width": image.width,
        "height": image.height,
        "src": root + images.url(image.storage_key),
        "thumbnails": {str(size): root + images.url(image.storage_key, size) for size in images.THUMBNAIL_SIZES},
    }


def product_json(product: Product, stock: dict[int, int], *, currency: str, base_url: str) -> dict:
    variants = [variant_json(v, stock, currency) for v in product.variants]
    return {
        "id": product.id,
        "handle": product.handle,
        "title": product.title,
        "description_html": product.description_html,
        "vendor": product.vendor,
        "product_type": product.product_type,
        "tags": list(product.tags or []),
        "options": [option_json(o) for o in product.options],
        "variants": variants,
        "images": [image_json(i, base_url) for i in product.images],
        "available": any(v["available"] for v in variants),
        "created_at": timestamp(product.created_at),
        "updated_at": timestamp(product.updated_at),
    }


def page_json(found: Page[Product], stock: dict[int, int], *, currency: str, base_url: str,
              next_url: str | None, prev_url: str | None) -> dict:
    return {
        "products": [product_json(p, stock, currency=currency, base_url=base_url) for p in found.items],
        "pagination": {"page": found.page, "limit": found.per_page, "total": found.total, "pages": found.pages,
                       "next": next_url, "prev": prev_url},
    }
