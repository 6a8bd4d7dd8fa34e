""""Customers also bought": co-purchase counts, and what a product page
recommends when there are not enough of them yet.

`record_order(product_ids)` is for order placement to call, inside the
order's own transaction, with the products of one order: every pair of
them counts once more, both ways round. `also_bought(product_id, limit)`
ranks the products most often bought with it, then fills up with products
from the same manual collections, then automated collections, then the same
product type. Only active products, never the product itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import permutations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app.catalog.collections import products_query
from app.catalog.models import Collection, CollectionProduct, Product
from app.extensions import db
from app.reviews.models import CoPurchase
from tenants.context import require_store

MAX_ORDER_PRODUCTS = 50  # pairs grow with the square: an order's first 50 distinct products count (2,450 pairs)
AUTOMATED_COLLECTIONS_CHECKED = 50  # automated collections whose rules are tried against the product (one query)


@dataclass(frozen=True)
class Recommended:
    product_ids: list[int]
    bought_together: bool  # every one of them comes from co-purchases (the heading can say so)


def record_order(product_ids: list[int]) -> int:
    """Count one order's products as bought together; returns the pairs
    counted. Does not commit (the caller's order transaction does). Pairs are
    written in one sorted statement, so two orders sharing products take
    their row locks in the same order and cannot deadlock."""
    distinct = sorted(dict.fromkeys(int(p) for p in product_ids))[:MAX_ORDER_PRODUCTS]
    existing = set(db.session.scalars(sa.select(Product.id).where(Product.id.in_(distinct)))) if distinct else set()
    pairs = sorted(permutations(sorted(existing), 2))
    if not pairs:
        return 0
    store_id = require_store().id
    statement = insert(CoPurchase).values([{"store_id": store_id, "product_id": a, "other_id": b, "count": 1}
                                           for a, b in pairs])
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["store_id", "product_id", "other_id"], set_={"count": CoPurchase.count + 1}))
    return len(pairs)


def also_bought(product_id: int, limit: int = 4) -> Recommended:
    """Up to `limit` active products to show beside this one, best first."""
    chosen = _add([], _co_purchased(product_id, limit), product_id, limit)
    from_orders = len(chosen)
    for fallback in (_same_manual_collections, _same_automated_collections, _same_type):
        if len(chosen) >= limit:
            break
        _add(chosen, fallback(product_id, limit + len(chosen)), product_id, limit)
    return Recommended(chosen, bought_together=bool(chosen) and from_orders == len(chosen))


def _add(chosen: list[int], candidates: list[int], product_id: int, limit: int) -> list[int]:
    for other in candidates:
        if len(chosen) < limit and other != product_id and other not in chosen:
            chosen.append(other)
    return chosen


def _active(query: sa.Select) -> sa.Select:
    return query.where(Product.status == "active")


def _co_purchased(product_id: int, limit: int) -> list[int]:
    query = (sa.select(CoPurchase.other_id).join(Product, sa.and_(Product.store_id == CoPurchase.store_id,
                                                                  Product.id == CoPurchase.other_id))
             .where(CoPurchase.product_id == product_id)
             .order_by(CoPurchase.count.desc(), CoPurchase.other_id).limit(limit))
    return list(db.session.scalars(_active(query)))


def _same_manual_collections(product_id: int, limit: int) -> list[int]:
    """Products sharing the most manual collections with it, then by their place in them."""
    mine = sa.select(CollectionProduct.collection_id).where(CollectionProduct.product_id == product_id)
    query = (sa.select(CollectionProduct.product_id)
             .join(Product, sa.and_(Product.store_id == CollectionProduct.store_id,
                                    Product.id == CollectionProduct.product_id))
             .where(CollectionProduct.collection_id.in_(mine), CollectionProduct.product_id != product_id)
             .group_by(CollectionProduct.product_id)
             .order_by(sa.func.count().desc(), sa.func.min(CollectionProduct.position), CollectionProduct.product_id)
             .limit(limit))
    return list(db.session.scalars(_active(query)))


def _same_automated_collections(product_id: int, limit: int) -> list[int]:
    """Products of the automated collections whose rules take this product:
    which ones do is asked in one query (a column per collection)."""
    automated = list(db.session.scalars(sa.select(Collection).where(Collection.kind == "automated")
                                        .order_by(Collection.id).limit(AUTOMATED_COLLECTIONS_CHECKED)))
    if not automated:
        return []
    holds = db.session.execute(sa.select(*[
        products_query(c).where(Product.id == product_id).exists().label(f"c{n}") for n, c in enumerate(automated)
    ])).one()
    found: list[int] = []
    for collection, held in zip(automated, holds, strict=True):
        if held and len(found) < limit:
            query = _active(products_query(collection).where(Product.id != product_id)).limit(limit)
            found += [p for p in db.session.scalars(query.with_only_columns(Product.id)) if p not in found]
    return found[:limit]


def _same_type(product_id: int, limit: int) -> list[int]:
    kind = db.session.scalar(sa.select(Product.product_type).where(Product.id == product_id))
    if not kind:
        return []
    query = (sa.select(Product.id).where(Product.product_type == kind, Product.id != product_id)
             .order_by(Product.created_at.desc(), Product.id.desc()).limit(limit))
    return list(db.session.scalars(_active(query)))
