"""Reviews: what customers write, what merchants approve or hide, and what
shoppers see. Inside a store context; the views pass plain values.

A review starts "pending" and is shown only once approved ("published");
"hidden" takes it down again. Approving or hiding emits `review.changed`
(listeners only: the page cache drops the store's pages), since the
product page shows the published reviews and their average. A pending
review changes nothing a shopper sees, so submitting one emits nothing;
neither does a helpful vote (the cached count may lag until the page's
entry expires, a few minutes, rather than emptying the store's cache for
every click).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app.catalog.images import ImageRejected, discard, prepare_image, save_files, thumbnail_key
from app.catalog.models import Product
from app.domain_errors import DomainError
from app.effects import emit
from app.extensions import db
from app.pagination import Page, offset, paginate
from app.parse import BadInput, text, whole_number
from app.reviews.models import MAX_AUTHOR, MAX_BODY, MAX_TITLE, STATUSES, Review, ReviewVote
from tenants.context import require_store

REVIEW_CHANGED = "review.changed"  # listeners only: the page cache (app.storefront.cache)
ACTIONS = {"approve": "published", "hide": "hidden"}
SORTS = {"newest": "Newest", "helpful": "Most helpful"}
PER_PAGE = 10
PHOTO_SIZE = 640  # the thumbnail shoppers and merchants see: re-encoded, so the camera's EXIF (GPS) stays behind


class ReviewErrorCode(str, Enum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    ALREADY_REVIEWED = "already_reviewed"
    OWN_REVIEW = "own_review"


class ReviewError(DomainError):
    """A refused review action; nothing was changed."""


class ReviewRefused(ReviewError):
    """A review form with one or more fields at fault: `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str], status: int = 422):
        super().__init__(ReviewErrorCode.INVALID, " ".join(errors.values()), next(iter(errors)), status=status)
        self.errors = errors


@dataclass(frozen=True)
class Rating:
    """A product's published reviews in brief (the storefront's shapes.Rating has the same fields)."""

    average: float  # one decimal
    count: int


# -- writing ------------------------------------------------------------------------------------------------------

def _fields(form: Mapping) -> tuple[dict, dict[str, str]]:
    """The form's values, cleaned, and a message for each field at fault."""
    checks = {
        "rating": lambda: _rating(form.get("rating")),
        "author_name": lambda: text(form.get("author_name"), field="author_name", label="Your name",
                                    max_length=MAX_AUTHOR, required=True),
        "title": lambda: text(form.get("title"), field="title", label="The title", max_length=MAX_TITLE),
        "body": lambda: text(form.get("body"), field="body", label="Your review", max_length=MAX_BODY,
                             required=True, multiline=True),
    }
    values, errors = {}, {}
    for name, check in checks.items():
        try:
            values[name] = check()
        except BadInput as error:
            errors[name] = error.message
    return values, errors


def _rating(value) -> int:
    """1 to 5 whole stars, written in ASCII digits ("3.5", "0", "6" and "abc" are refused)."""
    message = "Choose a rating from 1 to 5 stars."
    try:
        number = whole_number(value, field="rating", label="The rating", minimum=1, maximum=5)
    except BadInput:
        number = None
    if number is None:
        raise BadInput(ReviewErrorCode.INVALID, message, "rating")
    return number


def submit_review(product: Product, customer_id: int | None, form: Mapping, photo: bytes | None = None) -> Review:
    """A new pending review of an active product by a customer (one each;
    None: a review from elsewhere, such as the demo seed or an import).
    Every field is checked (all of their problems reported at once) before
    the photo is decoded, and the row is flushed before its files are
    written; if the commit still fails, the files this call wrote go again."""
    values, errors = _fields(form)
    if errors:
        raise ReviewRefused(errors)
    if product.status != "active":
        raise ReviewError(ReviewErrorCode.NOT_FOUND, "No such product in this store.", status=404)
    if customer_id is not None and _already_reviewed(product.id, customer_id):
        raise ReviewRefused({"body": "You have already reviewed this product."}, status=409)
    prepared = _photo(photo)
    review = Review(product_id=product.id, customer_id=customer_id, status="pending",
                    photo_key=prepared.columns["storage_key"] if prepared else None, helpful_count=0, **values)
    db.session.add(review)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # a second submit that raced this one
        db.session.rollback()
        raise ReviewRefused({"body": "You have already reviewed this product."}, status=409) from None
    written = save_files(prepared) if prepared else []
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        discard(written)
        raise
    return review


def _already_reviewed(product_id: int, customer_id: int) -> bool:
    return db.session.scalar(sa.select(Review.id).where(Review.product_id == product_id,
                                                        Review.customer_id == customer_id)) is not None


def _photo(data: bytes | None):
    if not data:
        return None
    try:
        return prepare_image(require_store().id, data)
    except ImageRejected as error:
        raise ReviewRefused({"photo": str(error)}) from None


def published_review(review_id: int) -> Review | None:
    return db.session.scalar(sa.select(Review).where(Review.id == review_id, Review.status == "published"))


def get_review(review_id: int) -> Review:
    review = db.session.get(Review, (require_store().id, review_id))
    if review is None:
        raise ReviewError(ReviewErrorCode.NOT_FOUND, "No such review in this store.", status=404)
    return review


def moderate(review_id: int, action: str, actor: str) -> Review:
    """Approve (publish) or hide a review; the product page changes when its status does."""
    if action not in ACTIONS:
        raise ReviewError(ReviewErrorCode.INVALID, "Choose Approve or Hide.", "action")
    review = get_review(review_id)
    status = ACTIONS[action]
    if review.status != status:
        review.status = status
        review.moderated_at = datetime.now().astimezone()
        review.moderated_by = actor
        emit(REVIEW_CHANGED)
    db.session.commit()
    return review


def vote_helpful(review_id: int, voter_id: int) -> tuple[Review, bool]:
    """Count the customer's "helpful" once: (the review, whether this vote counted)."""
    review = published_review(review_id)
    if review is None:
        raise ReviewError(ReviewErrorCode.NOT_FOUND, "No such review in this store.", status=404)
    if review.customer_id == voter_id:
        raise ReviewError(ReviewErrorCode.OWN_REVIEW, "You cannot vote for your own review.", status=409)
    inserted = db.session.scalar(
        insert(ReviewVote).values(store_id=require_store().id, review_id=review_id, voter_id=voter_id,
                                  created_at=sa.func.now())
        .on_conflict_do_nothing(index_elements=["store_id", "review_id", "voter_id"]).returning(ReviewVote.id))
    if inserted is not None:
        db.session.execute(sa.update(Review).where(Review.id == review_id)
                           .values(helpful_count=Review.helpful_count + 1))
    db.session.commit()  # expires the review: its count is read again, as the update left it
    return review, inserted is not None


# -- reading ------------------------------------------------------------------------------------------------------

def summaries(product_ids: list[int]) -> dict[int, Rating]:
    """{product id: Rating} over published reviews, in one query (products without any are left out)."""
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Review.product_id, sa.func.round(sa.func.avg(Review.rating), 1), sa.func.count())
        .where(Review.product_id.in_(ids), Review.status == "published").group_by(Review.product_id))
    return {product_id: Rating(float(average), count) for product_id, average, count in rows}


def rating_columns(product_id) -> tuple:
    """A product's published reviews' average (one decimal; NULL without any)
    and count, as two columns a query of products selects alongside
    (correlated on `product_id`, a column of it): its rating comes with the
    product, in the same query. `rating_of` turns them into a Rating."""
    published = sa.and_(Review.product_id == product_id, Review.status == "published")
    return (sa.select(sa.func.round(sa.func.avg(Review.rating), 1)).where(published)
            .scalar_subquery().label("rating_average"),
            sa.select(sa.func.count()).select_from(Review).where(published).scalar_subquery().label("rating_count"))


def rating_of(average, count: int | None) -> Rating | None:
    """The Rating of `rating_columns`' values (None: no published review)."""
    return Rating(float(average), count) if count else None


def published_reviews(product_id: int, page: int = 1, sort: str = "newest", per_page: int = PER_PAGE, *,
                      total: int | None = None) -> Page[Review]:
    """A page of a product's published reviews, newest or most helpful first.
    `total`: how many it has, when the caller read it already (its rating's
    count): they are not counted again, and none (or a page past the end) reads none."""
    start = offset(page, per_page)
    if total is not None and start >= total:
        return Page([], max(total, 0), page, per_page)
    order = [Review.created_at.desc(), Review.id.desc()]
    if sort == "helpful":
        order.insert(0, Review.helpful_count.desc())
    query = sa.select(Review).where(Review.product_id == product_id, Review.status == "published").order_by(*order)
    if total is None:
        return paginate(query, page=page, per_page=per_page)
    return Page(list(db.session.scalars(query.limit(per_page).offset(start))), total, page, per_page)


def voted(review_ids: list[int], voter_id: int) -> set[int]:
    """Which of these reviews the customer already found helpful."""
    if not review_ids:
        return set()
    return set(db.session.scalars(sa.select(ReviewVote.review_id).where(ReviewVote.review_id.in_(review_ids),
                                                                        ReviewVote.voter_id == voter_id)))


def has_reviewed(product_id: int, customer_id: int) -> bool:
    return _already_reviewed(product_id, customer_id)


def for_moderation(status: str | None, page: int, per_page: int = 25) -> Page:
    """Rows of (review, product title) for the dashboard: one status, or all
    with the pending ones first; newest first within."""
    query = sa.select(Review, Product.title).join(Product, sa.and_(Product.store_id == Review.store_id,
                                                                   Product.id == Review.product_id))
    if status is not None:
        query = query.where(Review.status == status)
    pending_first = sa.case((Review.status == "pending", 0), else_=1)
    return paginate(query.order_by(pending_first, Review.created_at.desc(), Review.id.desc()),
                    page=page, per_page=per_page, rows=True)


def status_counts() -> dict[str, int]:
    found = dict(db.session.execute(sa.select(Review.status, sa.func.count()).group_by(Review.status)).all())
    return {status: found.get(status, 0) for status in STATUSES}


def public_photo_key(review_id: int) -> str | None:
    """The photo file shoppers may see: that of a published review of an active product."""
    review = db.session.scalar(sa.select(Review).join(Product, sa.and_(
        Product.store_id == Review.store_id, Product.id == Review.product_id))
        .where(Review.id == review_id, Review.status == "published", Product.status == "active"))
    return photo_file_key(review) if review is not None else None


def photo_file_key(review: Review) -> str | None:
    """The storage key of the photo as shown (the 640 px thumbnail), or None."""
    return thumbnail_key(review.photo_key, PHOTO_SIZE) if review.photo_key else None
