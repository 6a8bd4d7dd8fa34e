"""The catalog's own after-commit work: removing image files nothing uses."""
from __future__ import annotations

import sqlalchemy as sa

from app.catalog.events import MEDIA_RELEASED
from app.catalog.images import THUMBNAIL_SIZES, thumbnail_key
from app.catalog.models import ProductImage
from app.effects import handler
from app.extensions import db
from app.media.storage import storage


@handler(MEDIA_RELEASED, queue="default")
def remove_unused_media(payloads: list[dict]) -> None:
    """Files are content-addressed: they stay while any image row uses the same bytes."""
    keys = {str(payload["storage_key"]) for payload in payloads}
    used = set(db.session.scalars(sa.select(ProductImage.storage_key).where(ProductImage.storage_key.in_(keys))))
    files = storage()
    for key in keys - used:
        files.delete(key)
        for size in THUMBNAIL_SIZES:
            files.delete(thumbnail_key(key, size))
