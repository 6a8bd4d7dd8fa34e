"""The dashboard's product list: search, filters, sort and pages."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog.models import STATUSES, Product, Variant
from app.extensions import db
from app.parse import page_number
from app.inventory.models import InventoryLevel, Location
from app.inventory.service import sellable_products
from app.pagination import Page, paginate

SORTS = {
    "updated": (Product.updated_at.desc(), "Last updated"),
    "created": (Product.created_at.desc(), "Newest"),
    "title": (sa.func.lower(Product.title).asc(), "Title A–Z"),
    "title_desc": (sa.func.lower(Product.title).desc(), "Title Z–A"),
}
STOCK_FILTERS = {"in": "In stock", "out": "Out of stock", "low": "Low stock"}
PER_PAGE = 50


@dataclass
class ProductQuery:
    q: str = ""
    status: str = ""
    vendor: str = ""
    product_type: str = ""
    tag: str = ""
    stock: str = ""
    sort: str = "updated"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> ProductQuery:
        """The list's arguments; unknown choices fall back to "any", a bad page is a 400."""
        return cls(q=args.get("q", "").strip()[:200], status=args.get("status", "") if args.get("status") in
                   STATUSES else "", vendor=args.get("vendor", "")[:255], product_type=args.get("type", "")[:255],
                   tag=args.get("tag", "")[:255], stock=args.get("stock", "") if args.get("stock") in
                   STOCK_FILTERS else "", sort=args.get("sort") if args.get("sort") in SORTS else "updated",
                   page=page_number(args))

    def args(self, **changes) -> dict:
        values = {"q": self.q, "status": self.status, "vendor": self.vendor, "type": self.product_type,
                  "tag": self.tag, "stock": self.stock, "sort": self.sort, "page": self.page, **changes}
        return {k: v for k, v in values.items() if v not in ("", None) and not (k == "page" and v == 1)
                and not (k == "sort" and v == "updated")}


@dataclass
class ProductRow:
    product: Product
    variant_count: int
    stock: int | None  # None: no variant tracks inventory


@dataclass
class ProductList:
    results: Page[ProductRow]
    query: ProductQuery
    vendors: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)


def _available_by_variant():
    return (sa.select(sa.func.coalesce(sa.func.sum(InventoryLevel.on_hand - InventoryLevel.reserved), 0))
            .join(Location, sa.and_(Location.store_id == InventoryLevel.store_id,
                                    Location.id == InventoryLevel.location_id))
            .where(InventoryLevel.store_id == Variant.store_id, InventoryLevel.variant_id == Variant.id,
                   Location.active).scalar_subquery())


def _stock_condition(kind: str):
    sellable = Product.id.in_(sellable_products())
    if kind == "in":
        return sellable
    if kind == "out":
        return sa.not_(sellable)
    on_sale = sa.case((Location.active, InventoryLevel.on_hand - InventoryLevel.reserved), else_=0)
    totals = (sa.select(Variant.product_id)
              .outerjoin(InventoryLevel, sa.and_(InventoryLevel.store_id == Variant.store_id,
                                                 InventoryLevel.variant_id == Variant.id))
              .outerjoin(Location, sa.and_(Location.store_id == InventoryLevel.store_id,
                                           Location.id == InventoryLevel.location_id))
              .where(Variant.track_inventory, Variant.low_stock_threshold.is_not(None))
              .group_by(Variant.id, Variant.product_id, Variant.low_stock_threshold)
              .having(sa.func.coalesce(sa.func.sum(on_sale), 0) <= Variant.low_stock_threshold))
    return Product.id.in_(totals)


def _text_condition(text: str):
    """Word-prefix search over title, handle, vendor and type (full-text
    index), or a SKU prefix (index on lower(sku))."""
    words = re.findall(r"[\w]+", text.lower())
    conditions = []
    if words:
        query = " & ".join(f"{word}:*" for word in words[:8])
        conditions.append(Product.search_vector.op("@@")(sa.func.to_tsquery("simple", query)))
    sku = text.strip().lower().replace("\\", "").replace("%", "").replace("_", "\\_")
    if sku:
        conditions.append(Product.id.in_(sa.select(Variant.product_id).where(
            sa.func.lower(Variant.sku).like(f"{sku}%"))))
    return sa.or_(*conditions) if conditions else sa.false()


def list_products(query: ProductQuery) -> ProductList:
    where = []
    if query.q:
        where.append(_text_condition(query.q))
    if query.status:
        where.append(Product.status == query.status)
    if query.vendor:
        where.append(Product.vendor == query.vendor)
    if query.product_type:
        where.append(Product.product_type == query.product_type)
    if query.tag:
        where.append(Product.tags.contains([query.tag]))
    if query.stock:
        where.append(_stock_condition(query.stock))
    found = paginate(sa.select(Product).where(*where).order_by(SORTS[query.sort][0], Product.id)
                     .options(selectinload(Product.images)), page=query.page, per_page=PER_PAGE)
    results = Page(_rows(found.items), found.total, found.page, found.per_page)
    return ProductList(results, query, *_facets())


def _rows(products: list[Product]) -> list[ProductRow]:
    ids = [p.id for p in products]
    if not ids:
        return []
    counts = db.session.execute(
        sa.select(Variant.product_id, sa.func.count(Variant.id),
                  sa.func.sum(sa.case((Variant.track_inventory, _available_by_variant()), else_=None)))
        .where(Variant.product_id.in_(ids)).group_by(Variant.product_id))
    stats = {pid: (count, stock) for pid, count, stock in counts}
    return [ProductRow(p, stats.get(p.id, (0, None))[0],
                       None if stats.get(p.id, (0, None))[1] is None else int(stats[p.id][1])) for p in products]


def _facets() -> tuple[list[str], list[str]]:
    vendors = db.session.scalars(sa.select(Product.vendor).where(Product.vendor != "").distinct()
                                 .order_by(Product.vendor).limit(200))
    types = db.session.scalars(sa.select(Product.product_type).where(Product.product_type != "").distinct()
                               .order_by(Product.product_type).limit(200))
    return list(vendors), list(types)
