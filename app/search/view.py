"""What the shop's search needs of one store's index, held in memory as bitmaps.

Facet counts are over every match, not one page, and "disjunctive": each
facet is counted with all the other filters applied. With a set of document
numbers per facet value, each count is one AND and one popcount. The sets
are Python integers used as bitmaps (bit n: document n), so an AND over
50,000 documents is a few microseconds; whoosh's grouping would instead
read a column for every match, once per facet (see bench/search_bench.py).

A whoosh index is a list of segments, and a segment never changes once
written: a write adds a small segment and marks replaced documents deleted
in the old ones (now and then whoosh merges small segments into a new one).
So the work is kept per segment (`Part`: its reader, which is costly to open
since it copies the term dictionary, 100+ ms at 50,000 products; its facet
and term bitmaps; its columns and sort orders), and a generation's `View`
only lays its parts side by side (a shift per part) and drops what the
generation deleted. After a product write the next search builds the new
small segment's part and reuses the rest.
"""
from __future__ import annotations

import bisect
import heapq
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from functools import cached_property, reduce

from whoosh.index import TOC
from whoosh.reading import SegmentReader

from app.search.filters import PriceBucket, price_buckets
from app.search.fuzzy import Vocabulary
from app.search.index import INDEX_NAME, index_dir, open_index
from app.search.words import FUZZY_FIELDS

KEPT_VIEWS = 32  # stores whose views a process keeps
KEPT_RANGES = 16  # price ranges (other than the buckets) a view keeps the bitmap of
SLOTTED = 2_000  # documents outside the largest part that are slotted into its order rather than merged
TERM_BUDGET = 8 * 2**20  # bytes of term bitmaps a part keeps (the words shoppers type again and again)
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


def _sort_key(sort: str, price: int, created: int, title: str, product_id: int) -> tuple:
    """What each sort orders by; the product id breaks ties, so pages are stable."""
    if sort == "price_asc":
        return price, product_id
    if sort == "price_desc":
        return -price, -product_id
    if sort == "title":
        return title, product_id
    return -created, -product_id  # newest


class FacetField:
    """One facet's values: value key -> bitmap, and the label shown."""

    def __init__(self):
        self.masks: dict[str, int] = {}
        self.labels: dict[str, str] = {}


class Part:
    """One segment's bitmaps and columns, in the segment's own document numbers."""

    def __init__(self, reader: SegmentReader):
        self.reader = reader
        self.size = reader.doc_count_all()
        self.active = self._postings_mask("status", "active")
        self.available = self.active & self._postings_mask("available", True)
        self.ids = [int(value) if value else 0 for value in reader.column_reader("id")]
        self.prices = list(reader.column_reader("price_min"))
        self.created = list(reader.column_reader("created"))
        self.titles = [title or "" for title in reader.column_reader("title_sort")]
        self.vendors = self._facet_field("vendor_key", "vendor")
        self.types = self._facet_field("type_key", "product_type")
        self.options = self._option_fields()
        self.by_price = sorted(range(self.size), key=lambda d: (self.prices[d], self.ids[d]))
        self.sorted_prices = [self.prices[d] for d in self.by_price]
        self._terms: OrderedDict[tuple, int] = OrderedDict()
        self._kept_terms = max(64, TERM_BUDGET // (self.size // 8 + 1))
        self._orders: dict[str, list[tuple]] = {}
        self._lock = threading.Lock()

    def _postings_mask(self, field: str, value) -> int:
        text = self.reader.schema[field].to_bytes(value)
        if (field, text) not in self.reader:
            return 0
        return bitmap(self.reader.postings(field, text).all_ids(), self.size)

    def term_mask(self, field: str, text: str) -> int:
        key = (field, text)
        with self._lock:
            if key in self._terms:
                self._terms.move_to_end(key)
                return self._terms[key]
        mask = self._postings_mask(field, text)
        with self._lock:
            self._terms[key] = mask
            while len(self._terms) > self._kept_terms:
                self._terms.popitem(last=False)
        return mask

    def _facet_field(self, field: str, label_field: str) -> FacetField:
        facet = FacetField()
        for value in self.reader.field_terms(field):
            mask = self.active & self._postings_mask(field, value)
            if value and mask:
                facet.masks[value] = mask
                facet.labels[value] = self.reader.stored_fields(next(docnums_of(mask)))[label_field]
        return facet

    def _option_fields(self) -> dict[str, FacetField]:
        """Option name key -> its values, labelled as the merchant wrote them."""
        options: dict[str, FacetField] = {}
        for token in self.reader.field_terms("option_values"):
            name, _, value = token.partition(":")
            mask = self.active & self._postings_mask("option_values", token)
            if not (name and value and mask):
                continue
            stored = self.reader.stored_fields(next(docnums_of(mask)))["option_values"]
            label = next((t for t in stored.split(",") if t.strip().lower() == token), token).strip()
            facet = options.setdefault(name, FacetField())
            facet.masks[value] = mask
            facet.labels[value] = label.partition(":")[2]
            facet.labels.setdefault("", label.partition(":")[0])  # the option's own name
        return options

    def price_mask(self, low: int | None, high: int | None) -> int:
        start = 0 if low is None else bisect.bisect_left(self.sorted_prices, low)
        end = self.size if high is None else bisect.bisect_left(self.sorted_prices, high)
        return bitmap(self.by_price[start:end], self.size)

    def key(self, sort: str, docnum: int) -> tuple:
        return _sort_key(sort, self.prices[docnum], self.created[docnum], self.titles[docnum], self.ids[docnum])

    def order(self, sort: str) -> tuple[list[tuple], list[int]]:
        """Every document in the sort's order, and their sort keys alongside."""
        with self._lock:
            if sort not in self._orders:
                pairs = sorted((self.key(sort, d), d) for d in range(self.size))
                self._orders[sort] = ([key for key, _ in pairs], [docnum for _, docnum in pairs])
            return self._orders[sort]

    @cached_property
    def field_terms(self) -> dict[str, set[str]]:
        return {name: set(self.reader.field_terms(name)) for name in FUZZY_FIELDS}


class Lexicon:
    """The parts' term dictionaries as one, for planning a query (app.search.words)."""

    def __init__(self, parts: list[Part]):
        self.parts = parts
        self.schema = parts[0].reader.schema if parts else None

    def __contains__(self, term) -> bool:
        return any(term in part.reader for part in self.parts)

    def expand_prefix(self, field: str, prefix: str) -> Iterator[bytes]:
        """The terms beginning with `prefix`, in order, each once."""
        last = None
        for term in heapq.merge(*(part.reader.expand_prefix(field, prefix) for part in self.parts)):
            if term != last:
                yield term
            last = term


class View:
    """One generation of a store's index: its parts side by side, what it deleted dropped."""

    def __init__(self, key: tuple, parts: list[Part], deleted: list[Iterable[int]], vocabulary: Vocabulary,
                 currency: str, locale: str):
        self.generation = key
        self.parts = parts
        self.offsets = [0]
        for part in parts:
            self.offsets.append(self.offsets[-1] + part.size)
        self.size = self.offsets[-1]
        alive = self._compose((1 << part.size) - 1 & ~bitmap(gone, part.size) for part, gone in zip(parts, deleted))
        self.active = alive & self._compose(part.active for part in parts)
        self.available = self.active & self._compose(part.available for part in parts)
        self.ids = [product_id for part in parts for product_id in part.ids]
        self.vendors = self._facet(lambda part: part.vendors)
        self.types = self._facet(lambda part: part.types)
        names = {name for part in parts for name in part.options}
        self.options = {name: self._facet(lambda part, name=name: part.options.get(name)) for name in names}
        self.buckets: list[tuple[PriceBucket, int]] = [
            (bucket, self._price_range(bucket.low, bucket.high)) for bucket in price_buckets(currency, locale)]
        self.lexicon = Lexicon(parts)
        for name in FUZZY_FIELDS:
            vocabulary.refresh_field(name, set().union(*(part.field_terms[name] for part in parts)))
        self.vocabulary = vocabulary
        self._orders: dict[str, list[int]] = {}
        self._ranges: OrderedDict[tuple, int] = OrderedDict()
        self._lock = threading.Lock()

    def _compose(self, masks: Iterable[int]) -> int:
        return reduce(int.__or__, (mask << offset for mask, offset in zip(masks, self.offsets)), 0)

    def _facet(self, field_of) -> FacetField:
        facet = FacetField()
        fields = [field_of(part) or FacetField() for part in self.parts]
        for value in {value for field in fields for value in field.masks}:
            mask = self.active & self._compose(field.masks.get(value, 0) for field in fields)
            if mask:
                facet.masks[value] = mask
                facet.labels[value] = next(field.labels[value] for field in fields if value in field.labels)
        facet.labels[""] = next((field.labels[""] for field in fields if "" in field.labels), "")
        return facet

    def term_mask(self, field: str, text: str) -> int:
        """Documents holding a term (deleted and inactive ones too: results are cut to `active`)."""
        return self._compose(part.term_mask(field, text) for part in self.parts)

    def price_mask(self, low: int | None, high: int | None) -> int:
        """Active documents priced in [low, high)."""
        for bucket, mask in self.buckets:
            if (bucket.low, bucket.high) == (low, high):
                return mask
        with self._lock:
            if (low, high) not in self._ranges:
                self._ranges[(low, high)] = self._price_range(low, high)
                if len(self._ranges) > KEPT_RANGES:
                    self._ranges.popitem(last=False)
            return self._ranges[(low, high)]

    def _price_range(self, low: int | None, high: int | None) -> int:
        return self.active & self._compose(part.price_mask(low, high) for part in self.parts)

    def key(self, sort: str, docnum: int) -> tuple:
        index = bisect.bisect_right(self.offsets, docnum) - 1
        return self.parts[index].key(sort, docnum - self.offsets[index])

    def order(self, sort: str) -> list[int]:
        """Every document in a sort's order: the parts' orders merged."""
        with self._lock:
            if sort not in self._orders:
                self._orders[sort] = self._merged(sort)
            return self._orders[sort]

    def _merged(self, sort: str) -> list[int]:
        """After a few writes, the largest part's order with the few new documents
        slotted in (a write costs its own documents, not the whole index);
        otherwise a merge of every part's order."""
        placed = sorted(zip(self.parts, self.offsets), key=lambda pair: -pair[0].size)
        if not placed:
            return []
        (largest, base), rest = placed[0], placed[1:]
        if sum(part.size for part, _ in rest) > SLOTTED:
            merged = heapq.merge(*[[(key, docnum + offset) for key, docnum in zip(*part.order(sort))]
                                   for part, offset in placed])
            return [docnum for _, docnum in merged]
        keys, docnums = largest.order(sort)
        keys, docnums = list(keys), [docnum + base for docnum in docnums]
        for part, offset in rest:
            for key, docnum in zip(*part.order(sort)):
                place = bisect.bisect_right(keys, key)
                keys.insert(place, key)
                docnums.insert(place, docnum + offset)
        return docnums

    def stored_fields(self, docnum: int) -> dict:
        index = bisect.bisect_right(self.offsets, docnum) - 1
        return self.parts[index].reader.stored_fields(docnum - self.offsets[index])

    @cached_property
    def docnum_of(self) -> dict[int, int]:
        """Product id -> its live, active document."""
        return {self.ids[docnum]: docnum for docnum in docnums_of(self.active)}


_views: OrderedDict[int, View] = OrderedDict()
_building: dict[int, threading.Lock] = {}
_lock = threading.Lock()  # guards the two dicts above


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
        if current is not None and current.generation == key:
            _views.move_to_end(store.id)
            return current
        building = _building.setdefault(store.id, threading.Lock())
    with building:  # one build per store at a time; other stores' searches go on meanwhile
        current = _views.get(store.id)
        if current is not None and current.generation == key:
            return current
        view = _build(store, key, current)
    if view is None:
        return None
    with _lock:
        _views[store.id] = view
        _views.move_to_end(store.id)
        while len(_views) > KEPT_VIEWS:
            dropped, _ = _views.popitem(last=False)
            _building.pop(dropped, None)
    return view


def _build(store, key: tuple, previous: View | None) -> View | None:
    for attempt in range(3):
        try:
            return _read(store, key, previous)
        except OSError:  # a commit's clean-up removed the files of the generation just read: read the next
            if attempt == 2:
                raise
    return None


def _read(store, key: tuple, previous: View | None) -> View | None:
    index = open_index(store.id)
    if index is None:
        return None
    toc = TOC.read(index.storage, INDEX_NAME)
    known = {part.reader.segment().segment_id(): part for part in (previous.parts if previous else [])}
    parts = [known.get(segment.segment_id()) or Part(SegmentReader(index.storage, toc.schema, segment,
                                                                   generation=toc.generation))
             for segment in toc.segments]
    # A reused part's reader knows the deletions of its own generation only: this TOC's are the ones that count.
    return View(key, parts, [list(segment.deleted_docs()) for segment in toc.segments],
                previous.vocabulary if previous else Vocabulary(), store.currency, store.locale)
