"""What the catalog tells the rest of the platform, through the outbox
(app.effects): the packages that care register handlers for these topics."""
from __future__ import annotations

from app.effects import emit

PRODUCT_CHANGED = "product.changed"  # payload: product_id; its document (search, caches) must be redone
COLLECTION_CHANGED = "collection.changed"  # payload: collection_id; listeners only (caches)
MEDIA_RELEASED = "media.released"  # payload: storage_key; no longer used by the row that had it


def product_changed(*product_ids: int) -> None:
    """Record, in the current transaction, that these products changed."""
    for product_id in dict.fromkeys(product_ids):
        emit(PRODUCT_CHANGED, product_id=product_id)


def collection_changed(collection_id: int) -> None:
    emit(COLLECTION_CHANGED, collection_id=collection_id)


def media_released(storage_key: str) -> None:
    """A stored image may have lost its last user: its files can go once that is sure."""
    emit(MEDIA_RELEASED, storage_key=storage_key)
