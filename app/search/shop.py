"""The shopper's search: typo-tolerant text, filters, disjunctive facets, sorts.

Everything is done on bitmaps of an index's documents (app.search.view):
1. each word of the text (app.search.words) matches the documents holding
   any of its alternatives; the text matches those matching every word,
   limited to active products;
2. each filter is a bitmap (OR within a filter's values, AND across
   filters); the results are the matches AND every filter;
3. each facet is counted over the matches AND every *other* filter, so
   choosing Vendor A still shows what choosing Vendor B instead would give;
4. one page is ordered. Relevance is tiered: a product scores, for each
   word, the weight of the best way it matches it (exact in the title 8,
   vendor, type, tags, options, SKU 4, description 2, title prefix 3, a
   correction 1); products are grouped by their sum, best group first, and
   newest first within a group. Other sorts walk a precomputed order.

whoosh's own scoring (BM25F, as the dashboard's search uses) walks every
match through a union of term matchers in Python: 100+ ms for a common word
at 50,000 products, and it has no notion of "corrected" or "in stock". The
tiers make exact-above-corrected and title-above-description rules rather
than likelihoods.

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
from app.search.view import View, bitmap, docnums_of
from app.search.words import Alternative, Word, clean_text, plan

SORTS = ("relevance", "price_asc", "price_desc", "newest", "title")
MAX_PER_PAGE = 100
MAX_PAGE = 100_000
MAX_FACET_VALUES = 50
SUGGEST_FIELDS = {"exact_weights": {"title": 8}, "fuzzy_fields": ("title_words",)}
SMALL_GROUP = 40  # a group of under 1/40 of the index is sorted, a larger one found by walking an order


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


def bounded(sort: str, page: int, per_page: int, *, featured: bool = False) -> tuple[str, int, int]:
    """An unknown sort is relevance ("featured" is known where there is an
    order to follow); page and page size are kept in range."""
    known = sort in SORTS or (featured and sort == "featured")
    return (sort if known else "relevance", min(max(page, 1), MAX_PAGE), min(max(per_page, 1), MAX_PER_PAGE))


def empty_results(text: str) -> ShopResults:
    return ShopResults([], 0, [], clean_text(text), False)


def run_search(view: View, text: str, filters: ShopFilters, *, sort: str, page: int,
               per_page: int, order: list[int] | None = None) -> ShopResults:
    """`order`: product ids in the page's own order (a collection's), which sort="featured" follows."""
    text = clean_text(text)
    sort, page, per_page = bounded(sort, page, per_page, featured=order is not None)
    words = plan(view.lexicon, text, view.vocabulary) if text and view.parts else []
    matched = _matches(view, words) if text else view.active
    masks = _filter_masks(view, filters)
    results = reduce(int.__and__, masks.values(), matched)
    start = (page - 1) * per_page
    if sort == "featured":
        docnums = _featured(view, results, order, start, start + per_page)
    else:
        docnums = _page(view, words, results, sort, start, start + per_page)
    corrected = any(word.corrected for word in words) and bool(results)
    return ShopResults([view.ids[d] for d in docnums], results.bit_count(),
                       _facets(view, filters, matched, masks), text, corrected)


def _matches(view: View, words: list[Word]) -> int:
    """Active documents matching every word (none when no word was searchable)."""
    if not words:
        return 0
    return reduce(int.__and__, (_word_mask(view, word) for word in words), view.active)


def _alternative_mask(view: View, alternative: Alternative) -> int:
    return reduce(int.__and__, (view.term_mask(alternative.field, term) for term in alternative.terms))


def _word_mask(view: View, word: Word) -> int:
    return reduce(int.__or__, (_alternative_mask(view, a) for a in word.alternatives), 0)


def _tiers(view: View, words: list[Word], matched: int) -> list[int]:
    """`matched` split by relevance score, best first (see the module's doc)."""
    scores = {0: matched}
    for word in words:
        classes, covered = [], 0
        for weight in sorted({a.weight for a in word.alternatives}, reverse=True):
            mask = reduce(int.__or__, (_alternative_mask(view, a) for a in word.alternatives if a.weight == weight), 0)
            if mask & ~covered:
                classes.append((weight, mask & ~covered))
            covered |= mask
        scored: dict[int, int] = {}
        for score, mask in scores.items():
            for weight, class_mask in classes:
                if part := mask & class_mask:
                    scored[score + weight] = scored.get(score + weight, 0) | part
        scores = scored
    return [scores[score] for score in sorted(scores, reverse=True)]


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

def _page(view: View, words: list[Word], results: int, sort: str, start: int, end: int) -> list[int]:
    if not results or start >= results.bit_count():
        return []
    if sort != "relevance":
        return _walk(view, [results], sort, start, end)
    # In stock first, then by score; within a tier, newest first.
    tiers = _tiers(view, words, results) if words else [results]
    in_stock = [tier & view.available for tier in tiers]
    sold_out = [tier & ~view.available for tier in tiers]
    return _walk(view, in_stock + sold_out, "newest", start, end)


def _walk(view: View, groups: list[int], sort: str, start: int, end: int) -> list[int]:
    """Places start..end of the groups one after the other, each in `sort` order."""
    page, skipped = [], 0
    for group in groups:
        count = group.bit_count()
        if not count or skipped + count <= start:
            skipped += count
            continue
        first = max(start - skipped, 0)
        page += _in_order(view, group, count, sort, first, first + end - start - len(page))
        skipped += count
        if len(page) >= end - start:
            break
    return page


def _featured(view: View, results: int, order: list[int], start: int, end: int) -> list[int]:
    """Places start..end of the matches in the page's own order (a collection's)."""
    bits = results.to_bytes((results.bit_length() >> 3) + 1, "little")
    docnum_of = view.docnum_of
    docnums = (docnum_of[product_id] for product_id in order if product_id in docnum_of)
    return list(islice((d for d in docnums if (d >> 3) < len(bits) and bits[d >> 3] >> (d & 7) & 1), start, end))


def _in_order(view: View, mask: int, count: int, sort: str, start: int, end: int) -> list[int]:
    if count * SMALL_GROUP < view.size:  # a few documents: sort them rather than walk the whole order
        return sorted(docnums_of(mask), key=lambda docnum: view.key(sort, docnum))[start:end]
    bits = mask.to_bytes((mask.bit_length() >> 3) + 1, "little")
    size = len(bits)
    wanted = (d for d in view.order(sort) if (d >> 3) < size and bits[d >> 3] >> (d & 7) & 1)
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

def run_suggest(view: View, text: str, limit: int) -> list[Suggestion]:
    text = clean_text(text)
    if not text or limit < 1:
        return []
    words = plan(view.lexicon, text, view.vocabulary, **SUGGEST_FIELDS) if view.parts else []
    matched = _matches(view, words)
    docnums = _walk(view, _tiers(view, words, matched), "newest", 0, limit) if matched else []
    stored = [view.stored_fields(docnum) for docnum in docnums]
    return [Suggestion(fields["handle"], fields["title"], fields["price_min"]) for fields in stored]
