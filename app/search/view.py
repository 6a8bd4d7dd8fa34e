"""What the shop's search needs of one store's index, held in memory as bitmaps.

Facet counts are over every match, not one page, and "disjunctive": each
facet is counted with all the other filters applied. With a set of document
numbers per facet value, each count is one AND and one popcount. The sets
are Python integers used as bitmaps (bit n: document n), so an AND over
50,000 documents is a few microseconds; whoosh's grouping would instead
read a column for every match, once per facet.

A `View` is built from an index's postings and columns once per index
generation (every index write is a new one) and kept per store with the
searcher it read (opening a searcher copies the term dictionary: 100+ ms at
50,000 products, so it is never done per search); a few megabytes at
50,000 products. The fuzzy vocabulary carries over from one generation to
the next and is only topped up.
"""
from __future__ import annotations

import bisect
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator

from whoosh.idsets import DocIdSet

from app.search.filters import PriceBucket, price_buckets
from app.search.fuzzy import Vocabulary
from app.search.index import INDEX_NAME, index_dir, open_index
from app.search.words import FUZZY_FIELDS

KEPT_VIEWS = 32  # stores whose views a process keeps
KEPT_RANGES = 16  # price ranges (other than the buckets) a view keeps the bitmap of
KEPT_TERMS = 512  # term bitmaps a view keeps (the words shoppers type again and again)
_TOC = re.compile(rf"^_{INDEX_NAME}_(\d+)\.toc$")


def bitmap(docnums: Iterable[int], size: int) -> int:
    bits = bytearray((size >> 3) + 1)
    for docnum in docnums:
        bits[docnum >> 3] |= 1 << (docnum & 7)
    return int.from_bytes(bits, "little")


def docnums_of(mask: int) -> Iterator[int]:
    """The set bits of a bitmap, in order."""
    for index, byte in enumerate(mask.to_bytes((mask.bit_length() >> 3) + 1, "little")):
        while byte:
            low = byte & -byte
            yield (index << 3) + low.bit_length() - 1
            byte ^= low


class DocMask(DocIdSet):
    """A bitmap as whoosh's search filter: it asks `in` (and truthiness) for
    every candidate document, which must be O(1)."""

    def __init__(self, mask: int):
        self.mask = mask
        self.bits = mask.to_bytes((mask.bit_length() >> 3) + 1, "little")

    def __contains__(self, docnum: int) -> bool:
        byte = docnum >> 3
        return byte < len(self.bits) and bool(self.bits[byte] >> (docnum & 7) & 1)

    def __bool__(self) -> bool:
        return bool(self.mask)

    def __len__(self) -> int:
        return self.mask.bit_count()

    def __iter__(self):
        return docnums_of(self.mask)


class FacetField:
    """One facet's values in an index: value key -> bitmap, and the label shown."""

    def __init__(self):
        self.masks: dict[str, int] = {}
        self.labels: dict[str, str] = {}


class View:
    def __init__(self, searcher, key: tuple, vocabulary: Vocabulary, currency: str, locale: str):
        reader = searcher.reader()
        self.searcher = searcher
        self.reader = reader
        self.key = key
        self.size = reader.doc_count_all()
        alive = bitmap(reader.all_doc_ids(), self.size)
        self.active = alive & self._term_mask(reader, "status", "active")
        self.available = self.active & self._term_mask(reader, "available", True)
        self.ids = [int(value) if value else 0 for value in reader.column_reader("id")]
        self.docnum_of = {self.ids[docnum]: docnum for docnum in docnums_of(self.active)}
        self.vendors = self._facet_field(reader, "vendor_key", "vendor")
        self.types = self._facet_field(reader, "type_key", "product_type")
        self.options = self._option_fields(reader)
        self._orders: dict[str, list[int]] = {}
        self._ranges: OrderedDict[tuple, int] = OrderedDict()
        self._terms: OrderedDict[tuple, int] = OrderedDict()
        self._filling = threading.Lock()  # orders, ranges and terms are filled in on first use, maybe by two threads
        self._prices(reader, currency, locale)
        self._reader_columns = {name: list(reader.column_reader(name)) for name in ("created", "title_sort")}
        vocabulary.refresh(reader, FUZZY_FIELDS)
        self.vocabulary = vocabulary

    def term_mask(self, field: str, text: str) -> int:
        """The documents holding a term (deleted and inactive ones included)."""
        key = (field, text)
        with self._filling:
            if key in self._terms:
                self._terms.move_to_end(key)
                return self._terms[key]
            mask = self._term_mask(self.reader, field, text)
            self._terms[key] = mask
            if len(self._terms) > KEPT_TERMS:
                self._terms.popitem(last=False)
            return mask

    def _term_mask(self, reader, field: str, value) -> int:
        text = reader.schema[field].to_bytes(value)
        if (field, text) not in reader:
            return 0
        return bitmap(reader.postings(field, text).all_ids(), self.size)

    def _facet_field(self, reader, field: str, label_field: str) -> FacetField:
        facet = FacetField()
        for value in reader.field_terms(field):
            mask = self.active & bitmap(reader.postings(field, value).all_ids(), self.size)
            if value and mask:
                facet.masks[value] = mask
                facet.labels[value] = reader.stored_fields(next(docnums_of(mask)))[label_field]
        return facet

    def _option_fields(self, reader) -> dict[str, FacetField]:
        """Option name key -> its values; labels as the merchant wrote them."""
        options: dict[str, FacetField] = {}
        for token in reader.field_terms("option_values"):
            name, _, value = token.partition(":")
            mask = self.active & bitmap(reader.postings("option_values", token).all_ids(), self.size)
            if not (name and value and mask):
                continue
            stored = reader.stored_fields(next(docnums_of(mask)))["option_values"]
            label = next((t for t in stored.split(",") if t.strip().lower() == token), token).strip()
            facet = options.setdefault(name, FacetField())
            facet.masks[value] = mask
            facet.labels[value] = label.partition(":")[2]
            facet.labels.setdefault("", label.partition(":")[0])  # the option's own name
        return options

    def _prices(self, reader, currency: str, locale: str) -> None:
        prices = list(reader.column_reader("price_min"))
        self.by_price = sorted(docnums_of(self.active), key=lambda d: (prices[d], self.ids[d]))
        self.sorted_prices = [prices[d] for d in self.by_price]
        self.buckets: list[tuple[PriceBucket, int]] = [
            (bucket, self._price_range(bucket.low, bucket.high)) for bucket in price_buckets(currency, locale)]

    def price_mask(self, low: int | None, high: int | None) -> int:
        """Active documents priced in [low, high)."""
        for bucket, mask in self.buckets:
            if (bucket.low, bucket.high) == (low, high):
                return mask
        key = (low, high)
        with self._filling:
            if key not in self._ranges:
                self._ranges[key] = self._price_range(low, high)
                if len(self._ranges) > KEPT_RANGES:
                    self._ranges.popitem(last=False)
            return self._ranges[key]

    def _price_range(self, low: int | None, high: int | None) -> int:
        start = 0 if low is None else bisect.bisect_left(self.sorted_prices, low)
        end = len(self.sorted_prices) if high is None else bisect.bisect_left(self.sorted_prices, high)
        return bitmap(self.by_price[start:end], self.size)

    def order(self, sort: str) -> list[int]:
        """Active documents in a sort's order, ties broken by product id."""
        with self._filling:
            if sort not in self._orders:
                self._orders[sort] = self._sorted(sort)
            return self._orders[sort]

    def rank(self, sort: str) -> list[int]:
        """Document number -> its place in a sort's order (to sort a few documents without a walk)."""
        key = "rank:" + sort
        order = self.order(sort)
        with self._filling:
            if key not in self._orders:
                rank = [len(order)] * self.size
                for place, docnum in enumerate(order):
                    rank[docnum] = place
                self._orders[key] = rank
            return self._orders[key]

    def _sorted(self, sort: str) -> list[int]:
        if sort == "price_asc":
            return self.by_price
        if sort == "price_desc":
            return self.by_price[::-1]
        column = self._reader_columns["created" if sort == "newest" else "title_sort"]
        if sort == "newest":
            return sorted(docnums_of(self.active), key=lambda d: (column[d], self.ids[d]), reverse=True)
        return sorted(docnums_of(self.active), key=lambda d: (column[d] or "", self.ids[d]))


_views: OrderedDict[int, View] = OrderedDict()
_lock = threading.Lock()


def generation_key(store_id: int) -> tuple | None:
    """Which index generation is live, from the directory alone (no index is
    opened): the newest TOC file's number, inode and time. A rebuilt index
    swapped in has TOC files of its own, so a new key too. None: no index."""
    try:
        entries = [(int(m.group(1)), entry) for entry in os.scandir(index_dir(store_id))
                   if (m := _TOC.match(entry.name))]
    except FileNotFoundError:
        return None
    if not entries:
        return None
    generation, entry = max(entries, key=lambda pair: pair[0])
    stat = entry.stat()
    return generation, stat.st_ino, stat.st_mtime_ns


def view_of(store) -> View | None:
    """The store's view at its index's live generation; None without an index of this version."""
    key = generation_key(store.id)
    if key is None:
        return None
    key = (key, store.currency, store.locale)
    with _lock:
        current = _views.get(store.id)
        if current is not None and current.key == key:
            _views.move_to_end(store.id)
            return current
        index = open_index(store.id)
        if index is None:
            return None
        view = View(index.searcher(), key, current.vocabulary if current is not None else Vocabulary(),
                    store.currency, store.locale)
        _views[store.id] = view
        _views.move_to_end(store.id)
        while len(_views) > KEPT_VIEWS:
            _views.popitem(last=False)
        return view
