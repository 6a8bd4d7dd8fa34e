"""Catalog reads for the storefront: active products only, loaded with their
variants, options and images in a fixed number of queries, and turned into
the views templates see (app.storefront.shapes).

The shop's pages read plain columns, not ORM objects: one statement brings
a product with its rating and, gathered by PostgreSQL into JSON arrays,
its variants, options and images (`product_page`), or a grid's products
with their variants' prices and first two images (`cards_by_ids`); the
stock is one more (app.inventory). However many products, variants and
images, a page's queries are the same few."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSON, aggregate_order_by, array_agg
from sqlalchemy.orm import selectinload

from app.catalog.collections import products_query
from app.catalog.models import Collection, Product, ProductImage, ProductOption, Variant
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


class VariantRow(NamedTuple):
    id: int
    option1: str | None
    option2: str | None
    option3: str | None
    price: int
    compare_at_price: int | None
    track_inventory: bool
    image_id: int | None
    sku: str | None

    option_values = property(Variant.option_values.fget)
    title = property(Variant.title.fget)


class OptionRow(NamedTuple):
    name: str
    position: int
    values: list[str]


class ImageRow(NamedTuple):
    id: int
    storage_key: str
    alt: str | None
    width: int
    height: int


@dataclass(frozen=True)
class ProductRow:
    """An active product as the product page reads it: what shapes.product_view takes of a Product."""

    id: int
    handle: str
    title: str
    vendor: str
    product_type: str
    description_html: str
    tags: list[str]
    seo_title: str
    seo_description: str
    variants: list[VariantRow]
    options: list[OptionRow]
    images: list[ImageRow]


def _gathered(columns: tuple, where, order: tuple, first: int | None = None):
    """A column of the rows of `columns` that match `where` (correlated with
    the enclosing select), in `order`, as lists (all, or the `first` few)."""
    rows = array_agg(aggregate_order_by(sa.func.json_build_array(*columns, type_=JSON), *order))
    return sa.select(rows[1:first] if first else rows).where(where).scalar_subquery()


_VARIANT_COLUMNS = (Variant.id, Variant.option1, Variant.option2, Variant.option3, Variant.price,
                    Variant.compare_at_price, Variant.track_inventory, Variant.image_id, Variant.sku)
_IMAGE_COLUMNS = (ProductImage.id, ProductImage.storage_key, ProductImage.alt, ProductImage.width,
                  ProductImage.height)


def _variants_of(product_id, columns=_VARIANT_COLUMNS):
    return _gathered(columns, Variant.product_id == product_id, (Variant.position, Variant.id))


def _images_of(product_id, first: int | None = None):
    return _gathered(_IMAGE_COLUMNS, ProductImage.product_id == product_id, (ProductImage.position, ProductImage.id),
                     first)


@cache
def _product_page_query() -> sa.Select:
    """Built once: a handle's product, with its variants, options, images and rating."""
    options = _gathered((ProductOption.name, ProductOption.position, ProductOption.values),
                        ProductOption.product_id == Product.id, (ProductOption.position, ProductOption.id))
    return (sa.select(Product.id, Product.handle, Product.title, Product.vendor, Product.product_type,
                      Product.description_html, Product.tags, Product.seo_title, Product.seo_description,
                      _variants_of(Product.id).label("variants"), options.label("options"),
                      _images_of(Product.id).label("images"), *rating_columns(Product.id))
            .where(Product.handle == sa.bindparam("handle", type_=sa.String), Product.status == "active"))


def product_page(handle: str) -> tuple[ProductRow, Rating | None] | None:
    """An active product (with its variants, options and images) and its rating, or None: one statement."""
    if not isinstance(handle, str) or len(handle) > 255:
        return None
    row = db.session.execute(_product_page_query(), {"handle": handle}).first()
    if row is None:
        return None
    product = ProductRow(
        row.id, row.handle, row.title, row.vendor, row.product_type, row.description_html, row.tags or [],
        row.seo_title, row.seo_description, [VariantRow(*v) for v in row.variants or ()],
        [OptionRow(*o) for o in row.options or ()], [ImageRow(*i) for i in row.images or ()])
    return product, _rating(rating_of(row.rating_average, row.rating_count))


def _rating(found) -> Rating | None:
    return Rating(found.average, found.count) if found is not None else None


def stock_of(products: list[Product]) -> dict[int, int]:
    return available([v.id for p in products for v in p.variants if v.track_inventory])


def cards(products: list[Product], routes: Routes) -> list[ProductCard]:
    stock, ratings = stock_of(products), ratings_of(products)
    return [card(p, stock, routes.product(p.handle), ratings.get(p.id)) for p in products]


@cache
def _cards_query() -> sa.Select:
    """Built once: products of an array of ids (one parameter, so one prepared
    statement whatever their number), with what their cards show."""
    return (sa.select(Product.id, Product.handle, Product.title, Product.vendor, Product.product_type,
                      _variants_of(Product.id, (Variant.id, Variant.price, Variant.compare_at_price,
                                                Variant.track_inventory)).label("variants"),
                      _images_of(Product.id, first=2).label("images"), *rating_columns(Product.id))
            .where(Product.id == sa.any_(sa.bindparam("ids", type_=ARRAY(sa.BigInteger))),
                   Product.status == "active"))


def cards_by_ids(ids: list[int], routes: Routes) -> list[ProductCard]:
    """Cards of the active products of these ids, in this order: two queries
    (the products with their ratings, variants' prices and first two images;
    the stock), however many products, variants and images."""
    if not ids:
        return []
    rows = db.session.execute(_cards_query(), {"ids": list(dict.fromkeys(ids))}).all()
    stock = available([variant_id for row in rows for variant_id, _, _, tracked in row.variants or () if tracked])
    cards = {}
    for row in rows:
        variants = row.variants or ()
        cards[row.id] = card_of(
            row.id, row.handle, routes.product(row.handle), row.title, row.vendor, row.product_type,
            [(price, was) for _, price, was, _ in variants],
            any(not tracked or stock.get(variant_id, 0) > 0 for variant_id, _, _, tracked in variants),
            [Image(key, alt or "", width, height) for _, key, alt, width, height in row.images or ()],
            _rating(rating_of(row.rating_average, row.rating_count)))
    return [cards[i] for i in ids if i in cards]


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
