"""GET /api/v1/search: the shopper's search (app.search.service.shop_search)
as JSON: one page of product summaries, the total, and facets.

Filters are read the storefront's way (`ShopFilters.from_args`: junk values
are dropped, never refused); paging and the sort are the client's own
choices, so a bad one is a 400. As in /api/v1/products, the index ranks and
the database has the last word: a product unpublished since the index last
heard of it is left out of the page.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from app.api.errors import int_parameter, invalid_parameter, page_parameter
from app.api.products import _collection_ids, _stock, _with_children, product_json
from app.catalog.models import Product
from app.extensions import db
from app.search.service import SORTS, ShopFilters, ShopResults, shop_search

DEFAULT_PER_PAGE = 24
MAX_PER_PAGE = 100


def search_json(args, *, currency: str, base_url: str) -> dict:
    page = page_parameter(args)
    per_page = int_parameter(args, "per_page", default=DEFAULT_PER_PAGE, minimum=1, maximum=MAX_PER_PAGE)
    sort = _sort(args)
    collection = (args.get("collection") or "").strip()
    within = _collection_ids(collection) if collection else None
    found = shop_search(args.get("q") or "", ShopFilters.from_args(args, within=within), sort=sort, page=page,
                        per_page=per_page)
    products = _products(found.product_ids)
    stock = _stock(products)
    return {
        "query": found.query,
        "corrected": found.corrected,
        "sort": sort,
        "total": found.total,
        "page": page,
        "per_page": per_page,
        "results": [product_json(p, stock, currency=currency, base_url=base_url) for p in products],
        "facets": _facets_json(found),
    }


def _sort(args) -> str:
    sort = (args.get("sort") or "relevance").strip()
    if sort not in SORTS:
        raise invalid_parameter("sort", f"`sort` must be one of {', '.join(SORTS)}.")
    return sort


def _products(ranked_ids: list[int]) -> list[Product]:
    """The page's products in the index's order, each checked again in the database."""
    if not ranked_ids:
        return []
    ranked = sa.literal(ranked_ids, ARRAY(sa.BigInteger))
    query = (sa.select(Product).where(Product.id == sa.any_(ranked), Product.status == "active")
             .order_by(sa.func.array_position(ranked, Product.id)))
    return list(db.session.scalars(_with_children(query)))


def _facets_json(found: ShopResults) -> list[dict]:
    return [{"key": facet.key, "label": facet.label,
             "values": [{"value": v.value, "label": v.label, "count": v.count, "selected": v.selected}
                        for v in facet.values]}
            for facet in found.facets]
