"""Catalog reads for the storefront: active products only, loaded with their
variants, options and images in a fixed number of queries, and turned into
the views templates see (app.storefront.shapes)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog.collections import products_query
from app.catalog.models import Collection, Product
from app.extensions import db
from app.inventory.service import available
from app.reviews.service import summaries as review_summaries
from app.storefront.shapes import ProductCard, Rating, card
from app.storefront.site import Routes

MENU_COLLECTIONS = 8


def _loaded(query):
    return query.options(selectinload(Product.options), selectinload(Product.variants),
                         selectinload(Product.images))


def product_by_handle(handle: str) -> Product | None:
    if not isinstance(handle, str) or len(handle) > 255:
        return None
    return db.session.scalar(_loaded(sa.select(Product).where(Product.handle == handle,
                                                              Product.status == "active")))


def stock_of(products: list[Product]) -> dict[int, int]:
    return available([v.id for p in products for v in p.variants if v.track_inventory])


def cards(products: list[Product], routes: Routes) -> list[ProductCard]:
    stock, ratings = stock_of(products), ratings_of(products)
    return [card(p, stock, routes.product(p.handle), ratings.get(p.id)) for p in products]


def ratings_of(products: list[Product]) -> dict[int, Rating]:
    """Published reviews' average and count per product, in one query."""
    return {product_id: Rating(found.average, found.count)
            for product_id, found in review_summaries([p.id for p in products]).items()}


def products_by_ids(ids: list[int]) -> list[Product]:
    """Active products of these ids, in this order."""
    if not ids:
        return []
    found = {p.id: p for p in db.session.scalars(_loaded(
        sa.select(Product).where(Product.id.in_(ids), Product.status == "active")))}
    return [found[i] for i in ids if i in found]


def newest(limit: int) -> list[Product]:
    return list(db.session.scalars(_loaded(sa.select(Product).where(Product.status == "active")
                                           .order_by(Product.created_at.desc(), Product.id.desc()).limit(limit))))


def collection_by_handle(handle: str) -> Collection | None:
    if not isinstance(handle, str) or len(handle) > 255:
        return None
    return db.session.scalar(sa.select(Collection).where(Collection.handle == handle))


def collection_products(collection: Collection, limit: int) -> list[Product]:
    query = products_query(collection).where(Product.status == "active").limit(limit)
    return list(db.session.scalars(_loaded(query)))


def collection_product_ids(collection: Collection, limit: int = 100_000) -> list[int]:
    """The collection's active product ids, in its order."""
    query = products_query(collection).where(Product.status == "active").limit(limit)
    return list(db.session.scalars(query.with_only_columns(Product.id)))


def menu_collections() -> list[Collection]:
    return list(db.session.scalars(sa.select(Collection).order_by(Collection.id).limit(MENU_COLLECTIONS)))


def all_collections(limit: int = 250) -> list[Collection]:
    return list(db.session.scalars(sa.select(Collection).order_by(Collection.title, Collection.id).limit(limit)))
