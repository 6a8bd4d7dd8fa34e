"""The shopper's search: typo-tolerant text, filters, disjunctive facets, sorts.

How it runs (for one store's index, at one generation, app.search.view):
1. the text becomes a whoosh query (app.search.words); the documents it
   matches become a bitmap, limited to active products;
2. each filter is a bitmap (OR within a filter's values, AND across
   filters); the results are the matches AND every filter;
3. each facet is counted over the matches AND every *other* filter, so
   choosing Vendor A still shows what choosing Vendor B instead would give;
4. one page is ordered: by relevance, whoosh scores the text within the
   result bitmap; other sorts walk a precomputed order of the whole index.

Ranking rule: with the relevance sort, in-stock products come before
sold-out ones, then by score (a two-key sort, not a score multiplier: a
multiplier big enough to be dependable would be the same thing, and a small
one lets relevance decide arbitrarily). So a sold-out exact title match is
listed after in-stock matches; the other sorts are exactly what they say.
Without text, "relevance" is in-stock first, then newest.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from itertools import islice

from app.search.filters import OPTION_PREFIX, ShopFilters, price_key
from app.search.index import option_name_key, option_value_key
from app.search.view import DocMask, View, bitmap, view_of
from app.search.words import clean_text, text_query

SORTS = ("relevance", "price_asc", "price_desc", "newest", "title")
MAX_PER_PAGE = 100
MAX_PAGE = 100_000
MAX_FACET_VALUES = 50
SUGGEST_FIELDS = {"exact_fields": ("title",), "fuzzy_fields": ("title_words",)}
ALL_BITS = -1  # AND-ing with it changes nothing


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Facet:
    key: str  # the query-string argument its values go in: vendor, type, price, opt.<name>, in_stock
    label: str
    values: list[FacetValue]


@dataclass(frozen=True)
class ShopResults:
    product_ids: list[int]
    total: int
    facets: list[Facet]
    query: str  # the text actually searched (cleaned, truncated)
    corrected: bool  # some word was in no product as typed; its nearest spellings were searched


@dataclass(frozen=True)
class Suggestion:
    handle: str
    title: str
    price_min: int


def empty_results(text: str) -> ShopResults:
    return ShopResults([], 0, [], clean_text(text), False)


def run_search(index, store, text: str, filters: ShopFilters, *, sort: str, page: int,
               per_page: int, order: list[int] | None = None) -> ShopResults:
    """`order`: product ids in the page's own order (a collection's), used by sort="featured"."""
    text = clean_text(text)
    sort = sort if sort in SORTS or (sort == "featured" and order is not None) else "relevance"
    page, per_page = min(max(page, 1), MAX_PAGE), min(max(per_page, 1), MAX_PER_PAGE)
    with index.searcher() as searcher:
        view = view_of(store.id, searcher, store.currency, store.locale)
        query, corrected = text_query(searcher, text, view.vocabulary) if text else (None, False)
        matched = _matches(searcher, view, query) if text else view.active
        masks = _filter_masks(view, filters)
        results = reduce(int.__and__, masks.values(), matched)
        start = (page - 1) * per_page
        if sort == "featured":
            docnums = _walk([view.docnum_of[i] for i in order if i in view.docnum_of], results, start,
                            start + per_page)
        else:
            docnums = _page(searcher, view, query, results, sort, start, start + per_page)
        return ShopResults([view.ids[d] for d in docnums], results.bit_count(),
                           _facets(view, filters, matched, masks), text, corrected and bool(results))


def _matches(searcher, view: View, query) -> int:
    if query is None:  # text, but no word of it searchable (only punctuation, say)
        return 0
    return view.active & bitmap(query.docs(searcher), view.size)


def _filter_masks(view: View, filters: ShopFilters) -> dict[str, int]:
    """A bitmap per filter that is set, keyed like the facets."""
    masks = {}
    if filters.vendors:
        masks["vendor"] = _any_of(view.vendors.masks, filters.vendors)
    if filters.types:
        masks["type"] = _any_of(view.types.masks, filters.types)
    if filters.price_min is not None or filters.price_max is not None:
        masks["price"] = view.price_mask(filters.price_min, filters.price_max)
    for name, values in filters.options.items():
        field = view.options.get(option_name_key(name))
        masks[OPTION_PREFIX + option_name_key(name)] = _any_of(field.masks, map(option_value_key, values)) if field else 0
    if filters.in_stock:
        masks["in_stock"] = view.available
    if filters.within is not None:
        masks["within"] = bitmap((view.docnum_of[i] for i in filters.within if i in view.docnum_of), view.size)
    return masks


def _any_of(masks: dict[str, int], values) -> int:
    return reduce(int.__or__, (masks.get(value.lower(), 0) for value in values), 0)


# --- one page ------------------------------------------------------------------

def _page(searcher, view: View, query, results: int, sort: str, start: int, end: int) -> list[int]:
    if not results or start >= results.bit_count():
        return []
    if sort != "relevance":
        return _walk(view.order(sort), results, start, end)
    # In stock first: the page may take the end of one part and the start of the other.
    in_stock = results & view.available
    sold_out = results ^ in_stock
    ranked = _ranked if query is not None else _newest
    first = in_stock.bit_count()
    page = ranked(searcher, view, query, in_stock, start, min(end, first)) if start < first else []
    if end > first:
        page += ranked(searcher, view, query, sold_out, max(start - first, 0), end - first)
    return page


def _ranked(searcher, view: View, query, mask: int, start: int, end: int) -> list[int]:
    if not mask or start >= end:
        return []
    hits = searcher.search(query, limit=end, filter=DocMask(mask))
    return [hit.docnum for hit in hits[start:end]]


def _newest(searcher, view: View, query, mask: int, start: int, end: int) -> list[int]:
    return _walk(view.order("newest"), mask, start, end) if mask and start < end else []


def _walk(order: list[int], mask: int, start: int, end: int) -> list[int]:
    """Positions start..end of `order` counting only documents in `mask`."""
    bits = mask.to_bytes((mask.bit_length() >> 3) + 1, "little")
    size = len(bits)
    wanted = (d for d in order if (d >> 3) < size and bits[d >> 3] >> (d & 7) & 1)
    return list(islice(wanted, start, end))


# --- facets ----------------------------------------------------------------------

def _facets(view: View, filters: ShopFilters, matched: int, masks: dict[str, int]) -> list[Facet]:
    def base(key: str) -> int:
        """The matches with every filter but this facet's own."""
        return reduce(int.__and__, (mask for other, mask in masks.items() if other != key), matched)

    facets = [
        _value_facet("vendor", "Vendor", view.vendors, base("vendor"), filters.vendors),
        _value_facet("type", "Product type", view.types, base("type"), filters.types),
        _price_facet(view, base("price"), filters),
    ]
    for name in sorted(view.options, key=lambda n: (-_reach(view.options[n]), n)):
        key = OPTION_PREFIX + name
        selected = {value for chosen, values in filters.options.items() if option_name_key(chosen) == name
                    for value in values}
        facets.append(_value_facet(key, view.options[name].labels.get("", name), view.options[name], base(key),
                                   frozenset(selected), option_value_key))
    in_stock = (base("in_stock") & view.available).bit_count()
    facets.append(Facet("in_stock", "Availability",
                        [FacetValue("1", "In stock", in_stock, filters.in_stock)] if in_stock or filters.in_stock
                        else []))
    return [facet for facet in facets if facet.values]


def _reach(field) -> int:
    """How many products have some value of this option (facets of common options come first)."""
    return reduce(int.__or__, field.masks.values(), 0).bit_count()


def _value_facet(key: str, label: str, field, base: int, selected: frozenset[str], normal=str.lower) -> Facet:
    chosen = {normal(value) for value in selected}
    values = []
    for value, mask in field.masks.items():
        count = (base & mask).bit_count()
        if count or value in chosen:
            values.append(FacetValue(field.labels[value], field.labels[value], count, value in chosen))
    values += [FacetValue(value, value, 0, True) for value in selected if normal(value) not in field.masks]
    values.sort(key=lambda v: (-v.count, v.label.casefold()))
    return Facet(key, label, values[:MAX_FACET_VALUES])


def _price_facet(view: View, base: int, filters: ShopFilters) -> Facet:
    chosen = price_key(filters.price_min, filters.price_max)
    values = []
    for bucket, mask in view.buckets:
        count = (base & mask).bit_count()
        if count or bucket.key == chosen:
            values.append(FacetValue(bucket.key, bucket.label, count, bucket.key == chosen))
    return Facet("price", "Price", values)


# --- autosuggest ------------------------------------------------------------------

def run_suggest(index, store, text: str, limit: int) -> list[Suggestion]:
    text = clean_text(text)
    if not text or limit < 1:
        return []
    with index.searcher() as searcher:
        view = view_of(store.id, searcher, store.currency, store.locale)
        query, _ = text_query(searcher, text, view.vocabulary, **SUGGEST_FIELDS)
        if query is None or not view.active:
            return []
        hits = searcher.search(query, limit=limit, filter=DocMask(view.active))
        return [Suggestion(hit["handle"], hit["title"], hit["price_min"]) for hit in hits]
