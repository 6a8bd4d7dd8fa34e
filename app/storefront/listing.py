"""Browsing a list of products: sort, filters and pages, read from the query
string (junk is ignored, never an error)."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from app.catalog.models import Product, Variant
from app.extensions import db
from app.inventory.service import sellable_products
from app.parse import MAX_PAGE
from app.storefront import catalog
from app.storefront.shapes import ProductCard

SORTS = {
    "featured": "Featured",
    "price-asc": "Price, low to high",
    "price-desc": "Price, high to low",
    "newest": "Newest",
    "title": "Alphabetically, A–Z",
}


@dataclass(frozen=True)
class Pagination:
    page: int
    pages: int
    total: int
    previous_url: str | None
    next_url: str | None


@dataclass(frozen=True)
class Result:
    products: list[ProductCard]
    pagination: Pagination
    sort: str
    sorts: list[tuple[str, str]]
    in_stock: bool
    facets: list
    filters_args: dict


@dataclass(frozen=True)
class Listing:
    sort: str = "featured"
    page: int = 1
    in_stock: bool = False

    @classmethod
    def from_args(cls, args: Mapping) -> Listing:
        sort = args.get("sort", "featured")
        raw_page = args.get("page", "1")
        page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() and len(raw_page) <= 6 else 1
        return cls(sort=sort if sort in SORTS else "featured", page=min(max(page, 1), MAX_PAGE),
                   in_stock=args.get("in_stock") == "1")

    def args(self, **changes) -> dict:
        values = {"sort": self.sort if self.sort != "featured" else None, "in_stock": "1" if self.in_stock else None,
                  "page": self.page if self.page > 1 else None}
        values.update(changes)
        return {key: value for key, value in values.items() if value is not None}

    def run(self, site, *, within: list[int], url: Callable[..., str], per_page: int) -> Result:
        ordered = self._ordered(within)
        total = len(ordered)
        pages = max(1, -(-total // per_page))
        page = min(self.page, pages)
        chosen = ordered[(page - 1) * per_page: page * per_page]
        products = catalog.cards(catalog.products_by_ids(chosen), site.routes)
        pagination = Pagination(page, pages, total,
                                url(**self.args(page=page - 1 if page > 2 else None)) if page > 1 else None,
                                url(**self.args(page=page + 1)) if page < pages else None)
        return Result(products, pagination, self.sort, list(SORTS.items()), self.in_stock, [], self.args(page=None))

    def _ordered(self, within: list[int]) -> list[int]:
        """The ids in the chosen order (the collection's own for "featured")."""
        if not within:
            return []
        query = sa.select(Product.id).where(Product.id.in_(within))
        if self.in_stock:
            query = query.where(Product.id.in_(sellable_products()))
        if self.sort == "featured":
            kept = set(db.session.scalars(query))
            return [product_id for product_id in within if product_id in kept]
        price = sa.select(sa.func.min(Variant.price)).where(Variant.product_id == Product.id).scalar_subquery()
        order = {"price-asc": [price.asc(), Product.id], "price-desc": [price.desc(), Product.id],
                 "newest": [Product.created_at.desc(), Product.id.desc()],
                 "title": [sa.func.lower(Product.title), Product.id]}[self.sort]
        return list(db.session.scalars(query.order_by(*order)))
