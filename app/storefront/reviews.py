"""Reviews on the product page: what the page shows (the published reviews,
the form for a logged-in customer, "you may also like") and the shopper's
writes (a review, a helpful vote), plus a review's photo.

Who is logged in comes from customer accounts (app.customers.sessions). A logged-in visit is personal, so the page
cache (app.storefront.cache) never keeps a page with a form or a vote on it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from babel.dates import format_date
from flask import abort, flash, g, get_flashed_messages, redirect, request, send_file

from app.catalog.images import MAX_IMAGE_BYTES
from app.customers.sessions import current_customer
from app.media.storage import storage
from app.parse import MAX_PAGE
from app.reviews import recommendations as recommending
from app.reviews import service
from app.reviews.models import Review
from app.storefront import bp, catalog, pages
from app.storefront import personal
from app.storefront.shapes import ProductCard, ProductView
from app.storefront.site import Site

THANKS = "Thanks! Your review will appear once approved."
FLASH = "review"  # the category the reviews section shows (and takes): other messages are left to the layout
RECOMMENDED = 4
PAGE_ARG, SORT_ARG = "reviews_page", "reviews_sort"
FORM_FIELDS = ("rating", "author_name", "title", "body")
KEPT_CHARACTERS = 10_000  # of a refused field, shown again as typed
PHOTO_CACHE = "public, max-age=3600"  # hiding a review takes its photo down within the hour


def current_customer_id() -> int | None:
    """The id of the customer of this store who is logged in, or None."""
    customer = current_customer()
    return customer.id if customer is not None else None


# -- what the product page shows ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewView:
    id: int
    author_name: str
    rating: int
    title: str
    body: str  # plain text: templates escape it (line breaks are kept by CSS, never by |safe)
    date: str  # ISO, for <time datetime>
    date_text: str  # in the store's locale
    photo_url: str | None
    helpful_count: int
    helpful_url: str
    voted: bool  # the logged-in customer found it helpful already
    own: bool  # the logged-in customer wrote it


@dataclass(frozen=True)
class ReviewForm:
    """A review form as typed, with a message per field at fault (a refused submit)."""

    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ReviewsBlock:
    reviews: tuple[ReviewView, ...]
    total: int
    page: int
    pages: int
    sort: str
    sorts: tuple[tuple[str, str, str], ...]  # (key, label, url)
    previous_url: str | None
    next_url: str | None
    action_url: str  # where the form posts
    login_url: str
    logged_in: bool
    already_reviewed: bool
    messages: tuple[str, ...]  # flashed to this visitor ("Thanks! ...")
    form: ReviewForm


@dataclass(frozen=True)
class RecommendationsBlock:
    heading: str
    products: tuple[ProductCard, ...]


def reviews_block(site: Site, product: ProductView, form: ReviewForm | None = None) -> ReviewsBlock:
    """The product's published reviews (the page and order from the query string; junk is ignored)."""
    sort = request.args.get(SORT_ARG, "newest")
    links = _Links(site.routes.product(product.handle), sort if sort in service.SORTS else "newest")
    found = service.published_reviews(product.id, _page_arg(), links.sort,  # counted with the product's rating
                                      total=product.rating.count if product.rating is not None else 0)
    customer_id = current_customer_id()
    voted = service.voted([r.id for r in found.items], customer_id) if customer_id else set()
    return ReviewsBlock(
        reviews=tuple(_review_view(site, r, customer_id, voted) for r in found.items),
        total=found.total, page=found.page, pages=found.pages, sort=links.sort, sorts=links.sorts(),
        previous_url=links.page(found.prev_page), next_url=links.page(found.next_page),
        action_url=site.routes.product(product.handle) + "/reviews", login_url=site.routes.account("login"),
        logged_in=customer_id is not None,
        already_reviewed=customer_id is not None and service.has_reviewed(product.id, customer_id),
        messages=() if site.preview else tuple(get_flashed_messages(category_filter=[FLASH])),
        form=form or ReviewForm())


def _page_arg() -> int:
    raw = request.args.get(PAGE_ARG, "1")
    return min(int(raw), MAX_PAGE) if raw.isascii() and raw.isdigit() and 0 < len(raw) <= 6 and int(raw) > 0 else 1


@dataclass(frozen=True)
class _Links:
    """Addresses of the reviews section in another order or page (the product page, at #reviews)."""

    product_url: str
    sort: str

    def to(self, sort: str, page: int | None = None) -> str:
        args = {SORT_ARG: sort if sort != "newest" else None, PAGE_ARG: page if page and page > 1 else None}
        return self.product_url + _query(args) + "#reviews"

    def page(self, page: int | None) -> str | None:
        return self.to(self.sort, page) if page else None

    def sorts(self) -> tuple[tuple[str, str, str], ...]:
        return tuple((key, label, self.to(key)) for key, label in service.SORTS.items())


def _query(args: dict) -> str:
    kept = {key: value for key, value in args.items() if value is not None}
    return ("?" + urlencode(kept)) if kept else ""


def _review_view(site: Site, review: Review, customer_id: int | None, voted: set[int]) -> ReviewView:
    base = site.routes.prefix + f"/reviews/{review.id}"
    return ReviewView(
        id=review.id, author_name=review.author_name, rating=review.rating, title=review.title, body=review.body,
        date=review.created_at.date().isoformat(),
        date_text=format_date(review.created_at.date(), format="long", locale=g.store.locale),
        photo_url=f"{base}/photo" if review.photo_key else None, helpful_count=review.helpful_count,
        helpful_url=f"{base}/helpful", voted=review.id in voted,
        own=customer_id is not None and review.customer_id == customer_id)


def recommendations_block(site: Site, product_id: int) -> RecommendationsBlock:
    found = recommending.also_bought(product_id, RECOMMENDED)
    heading = "Customers also bought" if found.bought_together else "You may also like"
    return RecommendationsBlock(heading, tuple(catalog.cards_by_ids(found.product_ids, site.routes)))


# -- the shopper's writes -----------------------------------------------------------------------------------------

def _customer() -> int:
    customer_id = current_customer_id()
    if customer_id is None:
        abort(403, description="Log in to your account with this shop to write a review or vote.")
    return customer_id


@bp.post("/products/<handle>/reviews")
def submit_review(handle: str):
    site = personal.shop_site()
    product = catalog.product_by_handle(handle)
    if product is None:
        abort(404)
    customer_id = _customer()
    try:
        service.submit_review(product, customer_id, request.form, _photo_upload())
    except service.ReviewRefused as refused:
        typed = {name: str(request.form.get(name, ""))[:KEPT_CHARACTERS] for name in FORM_FIELDS}
        page = pages.product(site, handle, review_form=ReviewForm(typed, refused.errors))
        return page, refused.status, {"Cache-Control": "private, no-store"}
    flash(THANKS, FLASH)
    return redirect(site.routes.product(product.handle) + "#reviews", 303)


def _photo_upload() -> bytes | None:
    """The uploaded photo's bytes (read one past the limit, so a larger file is refused, not cut)."""
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    return upload.stream.read(MAX_IMAGE_BYTES + 1) or None


@bp.post("/reviews/<id:review_id>/helpful")
def helpful(review_id: int):
    """Count a vote, then show the product page again (htmx picks the review's button out of it)."""
    site = personal.shop_site()
    customer_id = _customer()
    review = service.published_review(review_id)
    product = next(iter(catalog.products_by_ids([review.product_id])), None) if review is not None else None
    if product is None:  # no such review here, or its product is no longer in the shop
        abort(404)
    service.vote_helpful(review.id, customer_id)
    return redirect(site.routes.product(product.handle) + f"#review-{review.id}", 303)


@bp.get("/reviews/<id:review_id>/photo")
def photo(review_id: int):
    """A published review's photo, as its re-encoded thumbnail (no camera metadata)."""
    key = service.public_photo_key(review_id)
    path = storage().path(key) if key else None
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/webp", conditional=True)
    response.headers["Cache-Control"] = PHOTO_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
