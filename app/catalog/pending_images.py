"""Images a product should have but does not have yet (PendingImage rows).

An import records each image URL it has not stored yet and goes on with the
next product; the images are fetched afterwards, a batch at a time, and
attached as they arrive (`fetch_batch`). One that cannot be fetched stays,
failed, with its error: the product editor shows it (retry or remove), the
export writes its URL back in Image Src, and the import sweep tries it again
with backoff (`queue_due_retries`) until MAX_AUTO_ATTEMPTS.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog.errors import not_found
from app.catalog.events import media_released, product_changed
from app.catalog.image_fetch import FETCH_THREADS, ImageFetcher
from app.catalog.models import PendingImage, Product, ProductImage
from app.catalog.product_images import MAX_IMAGES
from app.extensions import db

BATCH = 4 * FETCH_THREADS  # URLs claimed, fetched and attached together (one transaction)
BACKOFF = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4), timedelta(hours=16))
MAX_AUTO_ATTEMPTS = len(BACKOFF) + 1  # after this many failures only the merchant retries (the editor)


def _now() -> datetime:
    return datetime.now().astimezone()


@dataclass(frozen=True)
class Failure:
    """An image of an import that could not be fetched, for the import's report."""

    row: int | None
    handle: str
    url: str
    problem: str


def of_product(product_id: int) -> list[PendingImage]:
    return list(db.session.scalars(sa.select(PendingImage).where(PendingImage.product_id == product_id)
                                   .order_by(PendingImage.position, PendingImage.id)))


def by_product(product_ids: list[int]) -> dict[int, list[PendingImage]]:
    found: dict[int, list[PendingImage]] = {}
    for pending in db.session.scalars(sa.select(PendingImage).where(PendingImage.product_id.in_(product_ids))
                                      .order_by(PendingImage.product_id, PendingImage.position, PendingImage.id)):
        found.setdefault(pending.product_id, []).append(pending)
    return found


def record(product: Product, known: dict[str, PendingImage], url: str, *, position: int, alt: str,
           row: int | None, job_id: int | None, variant_ids: list[int]) -> PendingImage:
    """Queue `url` for `product` (again, if it was pending or failed before:
    `known` holds the product's pending images by URL)."""
    pending = known.get(url)
    if pending is None:
        pending = known[url] = PendingImage(product_id=product.id, source_url=url, attempts=0)
        db.session.add(pending)
    pending.position, pending.alt, pending.row, pending.job_id = position, alt[:512], row, job_id
    pending.variant_ids, pending.status, pending.last_error, pending.retry_at = variant_ids, "pending", "", None
    return pending


def claim(job_id: int | None, limit: int = BATCH) -> list[PendingImage]:
    """The next pending images of an import (or, with None, of retries), locked
    for this transaction; another worker on the same rows skips them."""
    owner = PendingImage.job_id.is_(None) if job_id is None else PendingImage.job_id == job_id
    return list(db.session.scalars(sa.select(PendingImage).where(owner, PendingImage.status == "pending")
                                   .order_by(PendingImage.product_id, PendingImage.position, PendingImage.id)
                                   .limit(limit).with_for_update(skip_locked=True)))


def remaining(job_id: int | None) -> bool:
    """Whether an import (or, with None, the retries) has images left to fetch."""
    owner = PendingImage.job_id.is_(None) if job_id is None else PendingImage.job_id == job_id
    return db.session.scalar(sa.select(sa.exists().where(owner, PendingImage.status == "pending")))


def fetch_batch(fetcher: ImageFetcher, batch: list[PendingImage]) -> list[Failure]:
    """Fetch a claimed batch (at once, through the fetcher's pool) and attach
    what arrived, in the file's order; the rest is marked failed. The caller
    commits. Returns the failures."""
    fetcher.fetch({pending.source_url for pending in batch})
    products = {p.id: p for p in db.session.scalars(
        sa.select(Product).where(Product.id.in_({pending.product_id for pending in batch}))
        .options(selectinload(Product.images), selectinload(Product.variants)))}
    failures = []
    for pending in batch:
        product = products[pending.product_id]
        stored, problem = fetcher.result(pending.source_url)
        if stored is not None and len(product.images) >= MAX_IMAGES:
            media_released(stored["storage_key"])  # its files go unless another image uses them
            stored, problem = None, f"the product already has {MAX_IMAGES} images, the most it can have."
        if stored is None:
            _failed(pending, problem)
            failures.append(Failure(pending.row, product.handle, pending.source_url, problem))
        else:
            _attach(product, pending, stored)
            db.session.delete(pending)
    return failures


def _attach(product: Product, pending: PendingImage, stored: dict) -> None:
    """At its place in the file's order: images before it that are still
    missing do not count, so the order comes right once all have arrived."""
    image = next((i for i in product.images if i.storage_key == stored["storage_key"]), None)
    if image is None:
        image = ProductImage(position=0, alt=pending.alt, source_url=pending.source_url, **stored)
        product.images.insert(min(pending.position - 1, len(product.images)), image)
        for number, each in enumerate(product.images, 1):
            each.position = number
    image.source_url = image.source_url or pending.source_url
    db.session.flush()  # the image's id, for the variants
    wanted = set(pending.variant_ids)
    for variant in product.variants:
        if variant.id in wanted:
            variant.image_id = image.id
    product_changed(product.id)


def _failed(pending: PendingImage, problem: str) -> None:
    pending.status, pending.last_error = "failed", problem[:1000]
    pending.attempts += 1
    pending.retry_at = _now() + BACKOFF[pending.attempts - 1] if pending.attempts < MAX_AUTO_ATTEMPTS else None


def retry(product: Product, pending_id: int) -> None:
    """The merchant asks for another try: queued for the retry job at once.
    One statement, so an image attached meanwhile is simply not found. The
    caller commits and queues the job after the commit."""
    _changed(sa.update(PendingImage).where(*_mine(product, pending_id), PendingImage.status == "failed")
             .values(status="pending", job_id=None, retry_at=None, last_error=""))


def remove(product: Product, pending_id: int) -> None:
    """The merchant gives up on this URL: it is forgotten (and no longer exported)."""
    _changed(sa.delete(PendingImage).where(*_mine(product, pending_id)))
    db.session.commit()


def _mine(product: Product, pending_id: int) -> tuple:
    return PendingImage.id == pending_id, PendingImage.product_id == product.id


def _changed(statement) -> None:
    if db.session.execute(statement).rowcount == 0:
        db.session.rollback()
        raise not_found("image waiting to be fetched")


def release(job_id: int) -> int:
    """A stopped import's images not yet fetched go to the retry job, so none
    waits for an import that will not come back; returns how many (the
    caller commits and queues the job)."""
    return db.session.execute(
        sa.update(PendingImage).where(PendingImage.job_id == job_id, PendingImage.status == "pending")
        .values(job_id=None)).rowcount


def queue_due_retries() -> int:
    """Failed images whose backoff has passed become pending for the retry
    job again; returns how many (the caller commits and queues the job)."""
    return db.session.execute(
        sa.update(PendingImage).where(PendingImage.status == "failed", PendingImage.retry_at <= sa.func.now())
        .values(status="pending", job_id=None, retry_at=None)).rowcount


def variant_links(pending: list[PendingImage]) -> dict[int, str]:
    """Variant id -> the pending image URL that is its Variant Image (for the export)."""
    return {variant_id: p.source_url for p in pending for variant_id in p.variant_ids}

