"""Each store's whoosh index under var/search/<store id>/ and the documents in it.

The index is named after its version (`INDEX_NAME`): a release that changes
SCHEMA changes the name, so an index built by an earlier release is never
read. It counts as missing, and is rebuilt (app.search.service).
"""
from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path

from flask import current_app
from whoosh import index as whoosh_index
from whoosh.analysis import LowercaseFilter, RegexTokenizer, StemmingAnalyzer
from whoosh.fields import BOOLEAN, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.index import EmptyIndexError

# v1 was whoosh's default, "MAIN"; v2 added SKU prefixes; v3 the shop's fields (title words, option
# values, creation time, title order). Change the name whenever SCHEMA changes.
INDEX_NAME = "products_v3"
SCHEMA = Schema(
    id=ID(stored=True, unique=True, sortable=True),  # sortable: a column that maps product ids to documents
    handle=ID(stored=True),
    title=TEXT(stored=True, analyzer=StemmingAnalyzer(), field_boost=4.0),
    description=TEXT(analyzer=StemmingAnalyzer()),
    vendor=TEXT(stored=True, field_boost=1.5),
    product_type=TEXT(stored=True, field_boost=1.5),
    tags=KEYWORD(stored=True, commas=True, lowercase=True, scorable=True, field_boost=2.0),
    options=TEXT(field_boost=1.5),
    sku=KEYWORD(lowercase=True, field_boost=2.0),
    price_min=NUMERIC(stored=True, sortable=True, bits=64),
    price_max=NUMERIC(stored=True, sortable=True, bits=64),
    available=BOOLEAN(stored=True),
    status=ID(stored=True),
    # Exact, lowercased values for the API's filters (vendor and type above are for words).
    vendor_key=ID(),
    type_key=ID(),
    # The shop's search (app.search.shop): the title's words unstemmed, for
    # prefixes and typos ("runn" must reach "running", which the stemmed
    # title holds as "run"); "name:value" tokens of every option value, with
    # the names and values as the merchant wrote them stored for facet labels;
    # creation time and a title to sort by.
    title_words=TEXT(analyzer=RegexTokenizer() | LowercaseFilter(), phrase=False),
    option_values=KEYWORD(stored=True, commas=True, lowercase=True),
    created=NUMERIC(sortable=True, bits=64),
    title_sort=ID(sortable=True),
)
_TAGS = re.compile(r"<[^>]+>")


def index_dir(store_id: int) -> Path:
    return Path(current_app.config["VAR_DIR"]) / "search" / str(int(store_id))


def open_index(store_id: int):
    """The store's index, or None when it has none of this version: never
    built, lost, or built by an earlier release (or, for an instant, being
    swapped for a rebuilt one)."""
    try:
        return whoosh_index.open_dir(index_dir(store_id), indexname=INDEX_NAME)
    except EmptyIndexError:
        return None


def new_index(store_id: int):
    """An empty index beside the live one; `swap_in` replaces the live one with it."""
    path = index_dir(store_id).with_name(f"{store_id}.rebuild-{uuid.uuid4().hex[:8]}")
    path.mkdir(parents=True)
    return whoosh_index.create_in(path, SCHEMA, indexname=INDEX_NAME)


def swap_in(store_id: int, built) -> None:
    """Replace the live index with a rebuilt one: searches go on against the
    old one until the rename, never against a half-built one."""
    live, fresh = index_dir(store_id), Path(built.storage.folder)
    retired = live.with_name(f"{store_id}.retired-{uuid.uuid4().hex[:8]}")
    if live.exists():
        live.rename(retired)
    fresh.rename(live)
    shutil.rmtree(retired, ignore_errors=True)


def document(product, available_by_variant: dict[int, int]) -> dict:
    variants = product.variants
    prices = [v.price for v in variants] or [0]
    return {
        "id": str(product.id),
        "handle": product.handle,
        "title": product.title,
        "description": _TAGS.sub(" ", product.description_html or ""),
        "vendor": product.vendor,
        "product_type": product.product_type,
        "tags": ",".join(product.tags or []),
        "options": " ".join([o.name for o in product.options] + [v for o in product.options for v in o.values]),
        "sku": " ".join(sorted({part for v in variants if v.sku for part in _sku_prefixes(v.sku)})),
        "price_min": min(prices),
        "price_max": max(prices),
        "available": any(not v.track_inventory or available_by_variant.get(v.id, 0) > 0 for v in variants),
        "status": product.status,
        "vendor_key": (product.vendor or "").lower(),
        "type_key": (product.product_type or "").lower(),
        "title_words": product.title,
        "option_values": ",".join(option_token(o.name, v) for o in product.options for v in o.values),
        "created": int(product.created_at.timestamp() * 1_000_000) if product.created_at else 0,
        "title_sort": product.title.casefold(),
    }


def option_token(name: str, value: str) -> str:
    """`Size`, `M` -> `Size:M`: one token of the option_values field (lowercased
    when indexed). Commas separate tokens and the first colon ends the name,
    so neither may appear inside: they become spaces (filters do the same)."""
    return f"{_clean_option_part(name).replace(':', ' ')}:{_clean_option_part(value)}"


def _clean_option_part(text: str) -> str:
    return " ".join((text or "").replace(",", " ").split())


def option_name_key(name: str) -> str:
    """An option name as its tokens hold it (filters look names up by this)."""
    return _clean_option_part(name).replace(":", " ").lower()


def option_value_key(value: str) -> str:
    return _clean_option_part(value).lower()


def _sku_prefixes(sku: str) -> list[str]:
    """A SKU and its hyphen-separated prefixes (TEE-RED-S: TEE, TEE-RED and
    TEE-RED-S): generated variants share the product's SKU as a prefix, and a
    search for that prefix should find them."""
    parts = sku.split("-")
    return ["-".join(parts[:n]) for n in range(1, len(parts) + 1) if parts[n - 1]]
