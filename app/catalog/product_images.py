"""A product's images: upload, alt text, order, delete."""
from __future__ import annotations

import sqlalchemy as sa

from app.catalog.errors import CatalogError, CatalogErrorCode as Code, invalid, not_found
from app.catalog.events import media_released, product_changed
from app.catalog.images import ImageRejected, discard, prepare_image, save_files
from app.catalog.models import Product, ProductImage
from app.extensions import db
from tenants.context import require_store

MAX_IMAGES = 250


def add_image(product: Product, data: bytes, *, alt: str = "", source_url: str | None = None,
              commit: bool = True) -> ProductImage:
    """Every check comes before the first file is written: the image is
    decoded and its thumbnails made in memory, and the row is flushed (the
    store's write guard, the database's constraints) before anything is
    stored. If the commit still fails, the files this call wrote go again
    (only those: a file that was there already belongs to other rows)."""
    if len(product.images) >= MAX_IMAGES:
        raise invalid(f"A product can have at most {MAX_IMAGES} images.", "image")
    alt = _alt(alt)
    try:
        prepared = prepare_image(require_store().id, data)
    except ImageRejected as error:
        raise CatalogError(Code.INVALID, str(error), "image") from None
    image = ProductImage(product_id=product.id, position=len(product.images) + 1, alt=alt,
                         source_url=source_url, **prepared.columns)
    product.images.append(image)
    product_changed(product.id)
    db.session.flush()
    written = save_files(prepared)
    if commit:
        try:
            db.session.commit()
        except BaseException:
            db.session.rollback()
            discard(written)
            raise
    return image


def _alt(alt: str) -> str:
    alt = " ".join((alt or "").split())
    if len(alt) > 512:
        raise invalid("Alt text can be at most 512 characters.", "alt")
    return alt


def _image(product: Product, image_id: int) -> ProductImage:
    image = next((i for i in product.images if i.id == image_id), None)
    if image is None:
        raise not_found("image")
    return image


def update_image(product: Product, image_id: int, *, alt: str, position: int | None = None) -> ProductImage:
    image = _image(product, image_id)
    image.alt = _alt(alt)
    if position is not None:
        ordered = [i for i in product.images if i.id != image_id]
        ordered.insert(max(0, min(position - 1, len(ordered))), image)
        for number, each in enumerate(ordered, 1):
            each.position = number
    db.session.commit()
    return image


def delete_image(product: Product, image_id: int) -> None:
    image = _image(product, image_id)
    key = image.storage_key
    product.images.remove(image)
    for number, each in enumerate(product.images, 1):
        each.position = number
    product_changed(product.id)
    media_released(key)
    db.session.commit()


def audience(originals: tuple[str, ...]) -> str | None:
    """Who may see an image file of the current store, given the storage
    keys its original may have: "public" while an active product shows it,
    "dashboard" while only draft or archived products do, None when no image
    uses it (never stored, already released, or another store's)."""
    statuses = set(db.session.scalars(sa.select(Product.status).join(Product.images)
                                      .where(ProductImage.storage_key.in_(originals)).distinct()))
    if not statuses:
        return None
    return "public" if "active" in statuses else "dashboard"
