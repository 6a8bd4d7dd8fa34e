"""Browsing without text while a store's index is being built: from the database.

A search needs the index; listing a store's products with filters (a
collection page, a filtered catalog page) does not, so it keeps working
while a worker builds the index, as /api/v1/products without `q` does. The
filters and sorts mean what they mean in the index (app.search.shop),
in SQL; there are no facets until the index is back.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import Product, ProductOption, Variant
from app.extensions import db
from app.inventory.service import sellable_products
from app.search.filters import ShopFilters
from app.search.index import option_name_key, option_value_key


def browse(filters: ShopFilters, *, sort: str, page: int, per_page: int) -> tuple[list[int], int]:
    """One page of active product ids and how many there are in all."""
    query = sa.select(Product.id).where(Product.status == "active", *_conditions(filters))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    ordered = query.order_by(*_order(sort)).limit(per_page).offset((page - 1) * per_page)
    return list(db.session.scalars(ordered)), total


def in_order(order: list[int], filters: ShopFilters, *, page: int, per_page: int) -> tuple[list[int], int]:
    """A page of these product ids (a collection's, in its order) that are active and match the filters."""
    kept = set(db.session.scalars(sa.select(Product.id).where(
        Product.id.in_(order), Product.status == "active", *_conditions(filters))))
    matching = [product_id for product_id in order if product_id in kept]
    return matching[(page - 1) * per_page: page * per_page], len(matching)


def _lowest_price():
    return sa.select(sa.func.min(Variant.price)).where(Variant.product_id == Product.id).scalar_subquery()


def _conditions(filters: ShopFilters) -> list:
    conditions = []
    if filters.vendors:
        conditions.append(sa.func.lower(Product.vendor).in_([v.lower() for v in filters.vendors]))
    if filters.types:
        conditions.append(sa.func.lower(Product.product_type).in_([t.lower() for t in filters.types]))
    if filters.price_min is not None:
        conditions.append(_lowest_price() >= filters.price_min)
    if filters.price_max is not None:
        conditions.append(_lowest_price() < filters.price_max)
    for name, values in filters.options.items():
        conditions.append(_has_option(option_name_key(name), [option_value_key(v) for v in values]))
    if filters.in_stock:
        conditions.append(Product.id.in_(sellable_products()))
    if filters.within is not None:
        conditions.append(Product.id.in_(sorted(filters.within)) if filters.within else sa.false())
    return conditions


def _has_option(name: str, values: list[str]):
    """Some option of this name has one of these values."""
    has_value = (sa.select(sa.literal(1)).select_from(sa.func.unnest(ProductOption.values).alias("option_value"))
                 .where(sa.func.lower(sa.column("option_value")).in_(values)).exists())
    return (sa.select(sa.literal(1)).where(ProductOption.product_id == Product.id,
                                           sa.func.lower(ProductOption.name) == name, has_value).exists())


def _order(sort: str) -> list:
    if sort == "price_asc":
        return [_lowest_price().asc(), Product.id.asc()]
    if sort == "price_desc":
        return [_lowest_price().desc(), Product.id.desc()]
    if sort == "title":
        return [sa.func.lower(Product.title), Product.id]
    newest = [Product.created_at.desc(), Product.id.desc()]
    if sort == "newest":
        return newest
    return [Product.id.in_(sellable_products()).desc(), *newest]  # relevance without text: in stock first
