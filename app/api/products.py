"""Products as the JSON API shows them: the listing query and the shape.

Only active products are ever read. With search text the index finds,
filters and pages (app.search.service); the database decides what is shown,
so a product unpublished a moment ago never leaks through a stale index.
Availability is a boolean per variant; stock counts never leave this module.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import selectinload

from app.api.errors import bool_parameter, collection_too_large, not_found, text_parameter
from app.catalog import images
from app.catalog.collections import products_query
from app.catalog.models import Collection, Product, ProductImage, ProductOption, Variant
from app.extensions import db
from app.inventory.service import available as units_available
from app.inventory.service import sellable_products
from app.money import format_money
from app.pagination import Page, paginate
from app.search.service import SearchFilters, search
from tenants.context import require_store

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
MAX_QUERY_LENGTH = 200


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


def _collection(handle: str) -> Collection:
    collection = db.session.scalar(sa.select(Collection).where(Collection.handle == handle))
    if collection is None:
        raise not_found(f"No collection “{handle}” in this store.")
    return collection


def _conditions(filters: ProductFilters) -> list:
    """What a listed product must be: active, always, then what the filters ask."""
    conditions = [Product.status == "active"]
    if filters.vendor:
        conditions.append(_lower_equals(Product.vendor, filters.vendor))
    if filters.product_type:
        conditions.append(_lower_equals(Product.product_type, filters.product_type))
    if filters.tag:
        conditions.append(_has_tag(filters.tag))
    if filters.available is not None:
        condition = _available_condition()
        conditions.append(condition if filters.available else sa.not_(condition))
    return conditions


def list_products(filters: ProductFilters, *, page: int, limit: int) -> tuple[Page[Product], dict[int, int]]:
    """A page of products and the stock of their tracked variants."""
    found = _search(filters, page, limit) if filters.q else _browse(filters, page, limit)
    return found, _stock(found.items)


def _browse(filters: ProductFilters, page: int, limit: int) -> Page[Product]:
    """Without search text: the collection's order, else newest first."""
    if filters.collection:
        query = products_query(_collection(filters.collection))
    else:
        query = sa.select(Product).order_by(Product.created_at.desc())
    query = query.where(*_conditions(filters)).order_by(Product.id.desc())  # the tie-breaker keeps pages stable
    return paginate(_with_children(query), page=page, per_page=limit)


def _search(filters: ProductFilters, page: int, limit: int) -> Page[Product]:
    """The index ranks, filters and pages; the database loads that page in
    its order and checks each product again, so one unpublished (or changed)
    since the index last heard of it is left out. The total is the index's:
    for a moment it may count such a product."""
    within = _collection_ids(filters.collection) if filters.collection else None
    hits = search(filters.q, SearchFilters(vendor=filters.vendor, product_type=filters.product_type,
                                           tag=filters.tag, available=filters.available, within=within),
                  page=page, per_page=limit)
    if not hits.product_ids:
        return Page([], hits.total, page, limit)
    ranked = sa.literal(hits.product_ids, ARRAY(sa.BigInteger))
    query = (sa.select(Product).where(Product.id == sa.any_(ranked), *_conditions(filters))
             .order_by(sa.func.array_position(ranked, Product.id)))
    return Page(list(db.session.scalars(_with_children(query))), hits.total, page, limit)


def _collection_ids(handle: str) -> frozenset[int]:
    """The ids of a collection's active products, which a search within it
    is restricted to. They are read whole, so a collection may have at most
    SEARCH_COLLECTION_LIMIT of them to be searched."""
    limit = current_app.config["SEARCH_COLLECTION_LIMIT"]
    query = (products_query(_collection(handle)).where(Product.status == "active")
             .with_only_columns(Product.id).order_by(None).limit(limit + 1))
    ids = frozenset(db.session.scalars(query))
    if len(ids) > limit:
        raise collection_too_large(handle, limit)
    return ids


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
