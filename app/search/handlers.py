"""The search index follows the catalog: changed products are reindexed."""
from __future__ import annotations

from app.catalog.events import PRODUCT_CHANGED
from app.effects import handler
from app.search import service


@handler(PRODUCT_CHANGED, queue="search")
def reindex_products(payloads: list[dict]) -> None:
    service.reindex(sorted({int(payload["product_id"]) for payload in payloads}))
