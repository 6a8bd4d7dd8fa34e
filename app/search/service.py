"""Keeping each store's search index in step with its catalog, and querying it.

Product writes emit `product.changed` into the store's outbox (app.effects);
its handler (app.search.handlers) calls `reindex`, and the outbox rows are
deleted only once the index write succeeded, so a worker that was down
simply catches up when it returns.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.query import And, Every, Term

from app.catalog.events import PRODUCT_CHANGED
from app.catalog.models import Product
from app.effects.models import Outbox
from app.extensions import db
from app.inventory.service import available
from app.search.index import document, new_index, open_index, swap_in
from tenants.context import require_store
from tenants.session import tenant_engine

BATCH = 500
INDEX_LOCK = 7_204  # advisory-lock namespace: (INDEX_LOCK, store id)
SEARCH_FIELDS = ["title", "description", "vendor", "product_type", "tags", "options", "sku"]


def _documents(product_ids: list[int]) -> dict[int, dict]:
    products = list(db.session.scalars(sa.select(Product).where(Product.id.in_(product_ids)).options(
        selectinload(Product.options), selectinload(Product.variants))))
    stock = available([v.id for p in products for v in p.variants])
    return {p.id: document(p, stock) for p in products}


def reindex(product_ids: list[int]) -> None:
    """Rewrite these products' documents (or remove them: deleted products)."""
    store = require_store()
    _lock_index(store.id)
    docs = _documents(product_ids)
    writer = open_index(store.id).writer(timeout=current_app.config["SEARCH_WRITER_TIMEOUT"])
    try:
        for product_id in product_ids:
            if product_id in docs:
                writer.update_document(**docs[product_id])
            else:
                writer.delete_by_term("id", str(product_id))
    except BaseException:
        writer.cancel()
        raise
    writer.commit()


def _lock_index(store_id: int) -> None:
    """One writer of a store's index at a time (until the transaction ends):
    an update applied to an index that a rebuild is about to replace would be lost."""
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(INDEX_LOCK, store_id)),
                       bind_arguments={"bind": tenant_engine(db)})


def rebuild() -> int:
    """Recreate the current store's index from the database, then swap it in."""
    store = require_store()
    _lock_index(store.id)
    db.session.execute(sa.delete(Outbox).where(Outbox.topic == PRODUCT_CHANGED))
    ids = list(db.session.scalars(sa.select(Product.id).order_by(Product.id)))
    built = new_index(store.id)
    writer = built.writer(timeout=current_app.config["SEARCH_WRITER_TIMEOUT"])
    for start in range(0, len(ids), BATCH):
        for doc in _documents(ids[start:start + BATCH]).values():
            writer.add_document(**doc)
    writer.commit()
    swap_in(store.id, built)
    db.session.commit()
    return len(ids)


def pending() -> int:
    """Changed products still waiting for the index, in the current store."""
    return db.session.scalar(sa.select(sa.func.count(Outbox.id)).where(Outbox.topic == PRODUCT_CHANGED))


@dataclass
class SearchPage:
    product_ids: list[int]
    total: int


def search(text: str, *, page: int = 1, per_page: int = 24, only_active: bool = True,
           available_only: bool = False) -> SearchPage:
    """Product ids best first; the storefront and the API share this."""
    store = require_store()
    ix = open_index(store.id)
    parser = MultifieldParser(SEARCH_FIELDS, schema=ix.schema, group=OrGroup.factory(0.9))
    query = parser.parse(text) if text.strip() else Every()
    filters = [Term("status", "active")] if only_active else []
    if available_only:
        filters.append(Term("available", True))
    if filters:
        query = And([query, *filters])
    with ix.searcher() as searcher:
        results = searcher.search_page(query, page, pagelen=per_page)
        return SearchPage([int(hit["id"]) for hit in results], results.total)
