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
from whoosh.analysis import StemmingAnalyzer
from whoosh.fields import BOOLEAN, ID, KEYWORD, NUMERIC, TEXT, Schema
from whoosh.index import EmptyIndexError

INDEX_NAME = "products_v2"  # v1 was whoosh's default, "MAIN"; change the name whenever SCHEMA changes
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
    }


def _sku_prefixes(sku: str) -> list[str]:
    """A SKU and its hyphen-separated prefixes (TEE-RED-S: TEE, TEE-RED and
    TEE-RED-S): generated variants share the product's SKU as a prefix, and a
    search for that prefix should find them."""
    parts = sku.split("-")
    return ["-".join(parts[:n]) for n in range(1, len(parts) + 1) if parts[n - 1]]
