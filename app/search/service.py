"""Keeping each store's search index in step with its catalog, and querying it.

Product writes emit `product.changed` into the store's outbox (app.effects);
its handler (app.search.handlers) calls `reindex`, and the outbox rows are
deleted only once the index write succeeded, so a worker that was down
simply catches up when it returns.

A store without an index of this version (new, lost, or built by an earlier
release) gets a whole one: `reindex` builds it instead of adding a few
documents to an empty index, and `search` asks a worker for it and answers
`SearchUnavailable` meanwhile rather than results from an index that would
miss products.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload
from whoosh.qparser import MultifieldParser, OrGroup
from whoosh.query import And, ConstantScoreQuery, Every, Term

from app.catalog.events import PRODUCT_CHANGED
from app.catalog.models import Product
from app.effects.models import Outbox
from app.extensions import db, get_redis
from app.inventory.service import available
from app.jobs import enqueue
from app.pagination import offset
from app.search.filters import ShopFilters
from app.search.index import document, new_index, open_index, swap_in
from app.search import fallback
from app.search.shop import (SORTS, Facet, FacetValue, ShopResults, Suggestion, bounded, empty_results, run_search,
                             run_suggest)
from app.search.view import view_of
from app.search.words import clean_text
from tenants.context import require_store
from tenants.session import tenant_engine

log = logging.getLogger(__name__)

BATCH = 500
INDEX_LOCK = 7_204  # advisory-lock namespace: (INDEX_LOCK, store id)
SEARCH_FIELDS = ["title", "description", "vendor", "product_type", "tags", "options", "sku"]
BUILD_MARKER_TTL = 600  # a build job lost with its marker is asked for again after this


class SearchUnavailable(RuntimeError):
    """The store's index is being built; ask again in `retry_after` seconds."""

    retry_after = 10


def _documents(product_ids: list[int]) -> dict[int, dict]:
    products = list(db.session.scalars(sa.select(Product).where(Product.id.in_(product_ids)).options(
        selectinload(Product.options), selectinload(Product.variants))))
    stock = available([v.id for p in products for v in p.variants])
    return {p.id: document(p, stock) for p in products}


def reindex(product_ids: list[int]) -> None:
    """Rewrite these products' documents (or remove them: deleted products)."""
    store = require_store()
    _lock_index(store.id)
    index = open_index(store.id)
    if index is None:  # these documents alone would make an index that misses the rest
        _build(store.id)
        return
    docs = _documents(product_ids)
    writer = index.writer(timeout=current_app.config["SEARCH_WRITER_TIMEOUT"])
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


def _build(store_id: int) -> int:
    """Under the index lock: write the whole index beside the live one, then
    swap it in; the changes waiting in the outbox are in it, so they go."""
    db.session.execute(sa.delete(Outbox).where(Outbox.topic == PRODUCT_CHANGED))
    ids = list(db.session.scalars(sa.select(Product.id).order_by(Product.id)))
    built = new_index(store_id)
    writer = built.writer(timeout=current_app.config["SEARCH_WRITER_TIMEOUT"])
    for start in range(0, len(ids), BATCH):
        for doc in _documents(ids[start:start + BATCH]).values():
            writer.add_document(**doc)
    writer.commit()
    swap_in(store_id, built)
    return len(ids)


def rebuild() -> int:
    """Recreate the current store's index from the database, then swap it in."""
    store = require_store()
    _lock_index(store.id)
    indexed = _build(store.id)
    db.session.commit()
    return indexed


def ensure_index() -> bool:
    """Build the current store's index unless it has one of this version; True if it built one."""
    store = require_store()
    _lock_index(store.id)
    built = open_index(store.id) is None
    if built:
        _build(store.id)
    db.session.commit()
    return built


def build_marker(store_id: int) -> str:
    return f"vitrine:search:build:{int(store_id)}"


def request_build(store_id: int) -> None:
    """Queue a job that builds the store's index, unless one is queued already."""
    try:
        connection = get_redis()
        if connection.set(build_marker(store_id), "1", nx=True, ex=BUILD_MARKER_TTL):
            try:
                enqueue("app.search.jobs.build_index", store_id, queue_name="search")
            except Exception:
                connection.delete(build_marker(store_id))
                raise
    except redis.RedisError:
        log.warning("could not queue the search index build of store %s", store_id)


def pending() -> int:
    """Changed products still waiting for the index, in the current store."""
    return db.session.scalar(sa.select(sa.func.count(Outbox.id)).where(Outbox.topic == PRODUCT_CHANGED))


@dataclass(frozen=True)
class SearchFilters:
    """What a search is restricted to. Every filter is exact and applied in
    the index, so its pages and total are the filtered ones."""

    only_active: bool = True
    vendor: str | None = None  # vendor, type and tag: compared without regard to case
    product_type: str | None = None
    tag: str | None = None
    available: bool | None = None
    within: frozenset[int] | None = None  # product ids (say, a collection's); None: the whole store


@dataclass
class SearchPage:
    product_ids: list[int]
    total: int


def search(text: str, filters: SearchFilters = SearchFilters(), *, page: int = 1, per_page: int = 24) -> SearchPage:
    """One page of product ids, best first, and how many match in all; the
    storefront and the API share this."""
    store = require_store()
    index = open_index(store.id)
    if index is None:
        return _without_index(store.id)
    parser = MultifieldParser(SEARCH_FIELDS, schema=index.schema, group=OrGroup.factory(0.9))
    query = parser.parse(text) if text.strip() else Every()
    terms = _filter_terms(filters)
    if terms:  # matched alongside the text, scoring nothing: relevance is the text's alone
        query = And([query, ConstantScoreQuery(And(terms), 0.0)])
    with index.searcher() as searcher:
        within = _documents_of(searcher, filters.within) if filters.within is not None else None
        if within is not None and not within:  # (whoosh takes an empty filter for no filter)
            return SearchPage([], 0)
        # Without block skipping whoosh counts the matches as it scores them,
        # instead of running the query again for the total (and deep pages
        # need every match scored anyway).
        results = searcher.search(query, limit=page * per_page, filter=within, optimize=False)
        start = offset(page, per_page)
        return SearchPage([int(hit["id"]) for hit in results[start:start + per_page]], len(results))


def _filter_terms(filters: SearchFilters) -> list:
    terms = [Term("status", "active")] if filters.only_active else []
    if filters.vendor:
        terms.append(Term("vendor_key", filters.vendor.lower()))
    if filters.product_type:
        terms.append(Term("type_key", filters.product_type.lower()))
    if filters.tag:
        terms.append(Term("tags", filters.tag.lower()))
    if filters.available is not None:
        terms.append(Term("available", filters.available))
    return terms


def _documents_of(searcher, product_ids: frozenset[int]) -> set[int]:
    """The index's document numbers of these products: one pass over the id
    column, a few ms for 10,000 documents however many ids are asked for.
    (A product's replaced documents are in the column too; no query matches them.)"""
    wanted = {str(product_id) for product_id in product_ids}
    column = searcher.reader().column_reader("id")
    return {docnum for docnum, product_id in enumerate(column) if product_id in wanted}


def _without_index(store_id: int) -> SearchPage:
    """No index of this version: a store without products rightly finds
    nothing; any other waits for a worker to build its index."""
    if db.session.scalar(sa.select(Product.id).limit(1)) is None:
        return SearchPage([], 0)
    request_build(store_id)
    raise SearchUnavailable(f"the search index of store {store_id} is being built")


# --- the shopper's search (app.search.shop) -------------------------------------------

__all__ = ["SORTS", "Facet", "FacetValue", "SearchUnavailable", "ShopFilters", "ShopResults", "Suggestion",
           "shop_search", "suggest"]


def shop_search(text: str, filters: ShopFilters = ShopFilters(), *, sort: str = "relevance", page: int = 1,
                per_page: int = 24, order: list[int] | None = None) -> ShopResults:
    """A storefront search: one page of active product ids in `sort` order
    (SORTS; anything else is relevance), the total, and facets counted over
    every match. Without an index: empty for a store without products;
    otherwise a worker is asked to build it and, meanwhile, browsing without
    text is answered from the database (without facets) and a search raises
    SearchUnavailable."""
    store = require_store()
    view = view_of(store)
    if view is not None:
        return run_search(view, text, filters, sort=sort, page=page, per_page=per_page, order=order)
    if clean_text(text) or db.session.scalar(sa.select(Product.id).limit(1)) is None:
        _without_index(store.id)
        return empty_results(text)
    request_build(store.id)
    sort, page, per_page = bounded(sort, page, per_page, featured=order is not None)
    if sort == "featured":
        product_ids, total = fallback.in_order(order, filters, page=page, per_page=per_page)
    else:
        product_ids, total = fallback.browse(filters, sort=sort, page=page, per_page=per_page)
    return ShopResults(product_ids, total, [], "", False)


def suggest(text: str, limit: int = 6) -> list[Suggestion]:
    """As-you-type suggestions: active products whose titles have the words
    typed (the last one as a prefix, any of them misspelt a little)."""
    store = require_store()
    view = view_of(store)
    if view is None:
        _without_index(store.id)
        return []
    return run_suggest(view, text, min(max(limit, 0), 20))
