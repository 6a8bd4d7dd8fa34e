"""Catalog reads for the storefront: active products only, loaded with their
variants, options and images in a fixed number of queries, and turned into
the views templates see (app.storefront.shapes). Grids read plain columns
(`cards_by_ids`: four queries for any number of products, with no ORM
objects to build), the product page its product with its rating."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog.collections import products_query
from app.catalog.models import Collection, Product, ProductImage, Variant
from app.extensions import db
from app.inventory.service import available
from app.reviews.service import rating_columns, rating_of
from app.reviews.service import summaries as review_summaries
from app.storefront.shapes import Image, ProductCard, Rating, card, card_of
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


def product_page(handle: str) -> tuple[Product, Rating | None] | None:
    """An active product (with its variants, options and images) and its rating, or None."""
    if not isinstance(handle, str) or len(handle) > 255:
        return None
    found = db.session.execute(_loaded(sa.select(Product, *rating_columns(Product.id))
                                       .where(Product.handle == handle, Product.status == "active"))).first()
    if found is None:
        return None
    product, average, count = found
    return product, _rating(rating_of(average, count))


def _rating(found) -> Rating | None:
    return Rating(found.average, found.count) if found is not None else None


def stock_of(products: list[Product]) -> dict[int, int]:
    return available([v.id for p in products for v in p.variants if v.track_inventory])


def cards(products: list[Product], routes: Routes) -> list[ProductCard]:
    stock, ratings = stock_of(products), ratings_of(products)
    return [card(p, stock, routes.product(p.handle), ratings.get(p.id)) for p in products]


def cards_by_ids(ids: list[int], routes: Routes) -> list[ProductCard]:
    """Cards of the active products of these ids, in this order: four queries
    of plain columns (the products with their ratings, their variants' prices,
    their first two images, the stock), however many products, variants and images."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    rows = db.session.execute(sa.select(Product.id, Product.handle, Product.title, Product.vendor,
                                        Product.product_type, *rating_columns(Product.id))
                              .where(Product.id.in_(ids), Product.status == "active")).all()
    if not rows:
        return []
    found = [row.id for row in rows]
    variants = db.session.execute(sa.select(Variant.product_id, Variant.id, Variant.price, Variant.compare_at_price,
                                            Variant.track_inventory)
                                  .where(Variant.product_id.in_(found))
                                  .order_by(Variant.product_id, Variant.position, Variant.id)).all()
    stock = available([v.id for v in variants if v.track_inventory])
    prices: dict[int, list[tuple[int, int | None]]] = {}
    in_stock: set[int] = set()
    for variant in variants:
        prices.setdefault(variant.product_id, []).append((variant.price, variant.compare_at_price))
        if not variant.track_inventory or stock.get(variant.id, 0) > 0:
            in_stock.add(variant.product_id)
    images = _first_images(found)
    by_id = {row.id: row for row in rows}
    return [card_of(row.id, row.handle, routes.product(row.handle), row.title, row.vendor, row.product_type,
                    prices.get(row.id, []), row.id in in_stock, images.get(row.id, []),
                    _rating(rating_of(row.rating_average, row.rating_count)))
            for row in (by_id[i] for i in ids if i in by_id)]


def _first_images(product_ids: list[int], per_product: int = 2) -> dict[int, list[Image]]:
    place = sa.func.row_number().over(partition_by=ProductImage.product_id,
                                      order_by=(ProductImage.position, ProductImage.id)).label("place")
    ranked = sa.select(ProductImage.product_id, ProductImage.storage_key, ProductImage.alt, ProductImage.width,
                       ProductImage.height, place).where(ProductImage.product_id.in_(product_ids)).subquery()
    images: dict[int, list[Image]] = {}
    for row in db.session.execute(sa.select(ranked).where(ranked.c.place <= per_product)
                                  .order_by(ranked.c.product_id, ranked.c.place)):
        images.setdefault(row.product_id, []).append(Image(row.storage_key, row.alt or "", row.width, row.height))
    return images


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


def newest_ids(limit: int) -> list[int]:
    return list(db.session.scalars(sa.select(Product.id).where(Product.status == "active")
                                   .order_by(Product.created_at.desc(), Product.id.desc()).limit(limit)))


def newest(limit: int) -> list[Product]:
    return list(db.session.scalars(_loaded(sa.select(Product).where(Product.status == "active")
                                           .order_by(Product.created_at.desc(), Product.id.desc()).limit(limit))))


def collection_by_handle(handle: str) -> Collection | None:
    if not isinstance(handle, str) or len(handle) > 255:
        return None
    return db.session.scalar(sa.select(Collection).where(Collection.handle == handle))


def collection_product_ids(collection: Collection, limit: int = 100_000) -> list[int]:
    """The collection's active product ids, in its order."""
    query = products_query(collection).where(Product.status == "active").limit(limit)
    return list(db.session.scalars(query.with_only_columns(Product.id)))


def menu_collections() -> list[Collection]:
    return list(db.session.scalars(sa.select(Collection).order_by(Collection.id).limit(MENU_COLLECTIONS)))


def all_collections(limit: int = 250) -> list[Collection]:
    return list(db.session.scalars(sa.select(Collection).order_by(Collection.title, Collection.id).limit(limit)))
