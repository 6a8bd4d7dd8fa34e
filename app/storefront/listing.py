"""Browsing and searching products: text, sort, facet filters and pages, read
from the query string (junk is ignored, never an error). The search index
ranks, filters and counts facets (app.search.service.shop_search); a
collection page whose store index is still being built lists its products
from PostgreSQL, in its own order, without facets."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from app.parse import MAX_PAGE
from app.search.filters import ShopFilters
from app.search.service import SearchUnavailable, shop_search
from app.storefront import catalog
from app.storefront.shapes import ProductCard

SORTS = {
    "relevance": "Best match",
    "featured": "Featured",
    "price_asc": "Price, low to high",
    "price_desc": "Price, high to low",
    "newest": "Newest",
    "title": "Alphabetically, A–Z",
}
MAX_QUERY = 200


@dataclass(frozen=True)
class Pagination:
    page: int
    pages: int
    total: int
    previous_url: str | None
    next_url: str | None


@dataclass(frozen=True)
class FacetChoice:
    value: str
    label: str
    count: int
    selected: bool
    url: str  # this listing with the value switched on or off


@dataclass(frozen=True)
class FacetView:
    key: str  # the query-string name its values go in
    label: str
    choices: list[FacetChoice]
    single: bool  # one value at a time (price, availability): radio buttons, not checkboxes


@dataclass(frozen=True)
class Result:
    products: list[ProductCard]
    pagination: Pagination
    query: str
    corrected: bool
    sort: str
    sorts: list[tuple[str, str]]
    facets: list[FacetView]
    active: list[tuple[str, str]]  # (label, url that removes it) for each filter applied
    clear_url: str | None
    unavailable: bool = False  # the index is being built: no facets for a moment


@dataclass(frozen=True)
class Listing:
    text: str = ""
    sort: str = ""
    page: int = 1
    filters: ShopFilters = ShopFilters()

    @classmethod
    def from_args(cls, args: Mapping) -> Listing:
        raw_page = str(args.get("page", "1"))
        page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() and len(raw_page) <= 6 else 1
        sort = args.get("sort", "")
        return cls(text=" ".join(str(args.get("q", ""))[:MAX_QUERY].split()), sort=sort if sort in SORTS else "",
                   page=min(max(page, 1), MAX_PAGE), filters=ShopFilters.from_args(args))

    def args(self, filters: ShopFilters | None = None, **changes) -> list[tuple[str, str]]:
        """This listing's query string, with other filters or changes (a value of None drops it)."""
        values = {"q": self.text or None, "sort": self.sort or None, "page": None}
        values.update(changes)
        pairs = [(key, str(value)) for key, value in values.items() if key in ("q", "sort") and value]
        pairs += (filters if filters is not None else self.filters).to_args()
        if values.get("page"):
            pairs.append(("page", str(values["page"])))
        return pairs

    def run(self, site, *, url: Callable[[list], str], per_page: int, default_sort: str,
            order: list[int] | None = None) -> Result:
        """One page of this listing: the whole store, or `order` (a collection's product ids)."""
        sort = self.sort or default_sort
        filters = self.filters if order is None else _within(self.filters, order)
        try:
            found = shop_search(self.text, filters, sort=sort, page=self.page, per_page=per_page, order=order)
        except SearchUnavailable:
            return self._from_the_database(site, url, per_page, order or [])
        pages = max(1, -(-found.total // per_page))
        page = min(self.page, pages)
        products = catalog.cards_by_ids(found.product_ids, site.routes)
        return Result(
            products=products, pagination=self._pagination(url, page, pages, found.total), query=found.query,
            corrected=found.corrected, sort=sort, sorts=self._sorts(order is not None),
            facets=[self._facet(facet, url) for facet in found.facets],
            active=self._active(found.facets, url),
            clear_url=url(self.args(ShopFilters())) if self.filters.active else None)

    def _pagination(self, url, page: int, pages: int, total: int) -> Pagination:
        return Pagination(page, pages, total,
                          url(self.args(page=page - 1 if page > 2 else None)) if page > 1 else None,
                          url(self.args(page=page + 1)) if page < pages else None)

    def _sorts(self, in_collection: bool) -> list[tuple[str, str]]:
        hidden = {"relevance"} if in_collection and not self.text else {"featured"} if not in_collection else set()
        return [(key, label) for key, label in SORTS.items() if key not in hidden]

    def _facet(self, facet, url) -> FacetView:
        choices = [FacetChoice(value.value, value.label, value.count, value.selected,
                               url(self.args(self.filters.toggle(facet.key, value.value))))
                   for value in facet.values]
        return FacetView(facet.key, facet.label, choices, facet.key in ("price", "in_stock"))

    def _active(self, facets, url) -> list[tuple[str, str]]:
        return [(f"{facet.label}: {value.label}" if facet.key != "in_stock" else value.label,
                 url(self.args(self.filters.toggle(facet.key, value.value))))
                for facet in facets for value in facet.values if value.selected]

    def _from_the_database(self, site, url, per_page: int, order: list[int]) -> Result:
        total = len(order)
        pages = max(1, -(-total // per_page))
        page = min(self.page, pages)
        chosen = order[(page - 1) * per_page: page * per_page]
        return Result(catalog.cards_by_ids(chosen, site.routes),
                      self._pagination(url, page, pages, total), self.text, False, "featured",
                      self._sorts(True), [], [], None, unavailable=True)


def _within(filters: ShopFilters, order: list[int]) -> ShopFilters:
    from dataclasses import replace

    return replace(filters, within=frozenset(order))
