"""Reviews on the product page: the form for logged-in customers, the flash after a submit, refused
input shown again as typed, escaping, helpful votes, cache invalidation, and recommendations."""
from __future__ import annotations

import re

import sqlalchemy as sa

from app.extensions import db
from app.reviews import recommendations, service
from app.reviews.models import Review
from tests.catalog.helpers import png_bytes
from tests.conftest import as_store
from tests.reviews.conftest import ACTOR, review_form, shopper


def _page(browser, handle: str, query: str = "") -> str:
    response = browser.get(f"/products/{handle}{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _reviews(app, shop) -> list[tuple]:
    with as_store(app, shop.store):
        return db.session.execute(sa.select(Review.id, Review.status, Review.rating, Review.body)).all()


def _approve_all(app, shop) -> None:
    with as_store(app, shop.store):
        for review_id in db.session.scalars(sa.select(Review.id)).all():
            service.moderate(review_id, "approve", ACTOR)


def _logged_out(app, shop, browser):
    """`browser` with a CSRF token (from a logged-in page) but no customer any more."""
    token = browser.csrf_token(f"/products/{shop.ids.kettle_handle}")
    with browser.flask.session_transaction(base_url=f"http://{shop.host}/") as session:
        session.pop("customer")
    return token


def _hx_post(browser, path: str, token: str):
    return browser.flask.post(path, data={"csrf_token": token}, headers={"Host": browser.host, "HX-Request": "true"},
                              follow_redirects=True)


def test_a_visitor_is_asked_to_log_in_and_cannot_post(app, shop):
    browser = shopper(app, shop, customer_id=7)
    token = _logged_out(app, shop, browser)
    page = _page(browser, shop.ids.kettle_handle)
    assert "Log in to write a review" in page and 'name="body"' not in page and "No reviews yet." in page
    posted = browser.post(f"/products/{shop.ids.kettle_handle}/reviews", {**review_form(), "csrf_token": token})
    assert posted.status_code == 403 and _reviews(app, shop) == []


def test_a_customer_of_another_store_is_a_visitor_here(app, shop):
    browser = shopper(app, shop, customer_id=7, store_id=shop.store.id + 100_000)
    assert "Log in to write a review" in _page(browser, shop.ids.kettle_handle)


def test_submit_moderate_publish_through_the_pages(app, shop):
    browser = shopper(app, shop, customer_id=7)
    path = f"/products/{shop.ids.kettle_handle}"
    page = _page(browser, shop.ids.kettle_handle)
    assert "Write a review" in page and 'type="radio"' in page and 'enctype="multipart/form-data"' in page
    posted = browser.upload(f"{path}/reviews", review_form(rating="5", body="Boils in a minute."),
                            {"photo": (png_bytes(800, 600), "kettle.png")}, csrf_from=path)
    assert posted.status_code == 303 and posted.headers["Location"].endswith(f"{path}#reviews")
    thanked = _page(browser, shop.ids.kettle_handle)
    assert "Thanks! Your review will appear once approved." in thanked
    assert "Boils in a minute." not in thanked and "You have reviewed this product" in thanked
    (review_id, status, rating, _), = _reviews(app, shop)
    assert (status, rating) == ("pending", 5)
    assert browser.get(f"/reviews/{review_id}/photo").status_code == 404  # not before it is approved
    _approve_all(app, shop)
    visitor = shopper(app, shop)
    shown = _page(visitor, shop.ids.kettle_handle)
    assert "Boils in a minute." in shown and "5.0 out of 5" in shown and "1 review" in shown
    photo = visitor.get(f"/reviews/{review_id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/webp" and photo.data[:4] == b"RIFF"
    photo.close()


def test_refused_input_is_shown_again_as_typed_and_nothing_is_saved(app, shop):
    browser = shopper(app, shop, customer_id=7)
    path = f"/products/{shop.ids.kettle_handle}"
    for fields, message in [({"rating": "0"}, "Choose a rating from 1 to 5 stars."),
                            ({"rating": "6"}, "Choose a rating from 1 to 5 stars."),
                            ({"rating": "3.5"}, "Choose a rating from 1 to 5 stars."),
                            ({"body": ""}, "Your review is required.")]:
        refused = browser.post(f"{path}/reviews", review_form(title="Kept <title>", **fields), csrf_from=path)
        page = refused.get_data(as_text=True)
        field = next(iter(fields))
        assert refused.status_code == 422, fields
        assert message in page and f'id="review-{field}-error"' in page and f'href="#review-{field}"' in page
        assert 'value="Kept &lt;title&gt;"' in page and 'value="Robin"' in page  # the rest as typed
        assert "private" in refused.headers["Cache-Control"]
    bad_photo = browser.upload(f"{path}/reviews", review_form(), {"photo": (b"not an image", "x.png")},
                               csrf_from=path)
    assert bad_photo.status_code == 422 and "not an image we can use" in bad_photo.get_data(as_text=True)
    assert _reviews(app, shop) == []


def test_review_text_is_escaped(app, shop):
    browser = shopper(app, shop, customer_id=7)
    path = f"/products/{shop.ids.kettle_handle}"
    browser.post(f"{path}/reviews", review_form(title="<b>bold</b>", author_name="<i>Eve</i>",
                                               body="<script>alert(1)</script>\nSecond line"), csrf_from=path)
    _approve_all(app, shop)
    page = _page(shopper(app, shop), shop.ids.kettle_handle)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>bold</b>" not in page and "&lt;i&gt;Eve&lt;/i&gt;" in page and "<p>Second line</p>" in page


def test_helpful_counts_once_and_htmx_gets_the_new_count(app, shop):
    author = shopper(app, shop, customer_id=7)
    path = f"/products/{shop.ids.kettle_handle}"
    author.post(f"{path}/reviews", review_form(), csrf_from=path)
    _approve_all(app, shop)
    (review_id, *_), = _reviews(app, shop)
    assert f'action="/reviews/{review_id}/helpful"' not in _page(author, shop.ids.kettle_handle)  # not your own
    assert f'action="/reviews/{review_id}/helpful"' not in _page(shopper(app, shop), shop.ids.kettle_handle)
    voter = shopper(app, shop, customer_id=8)
    assert f'hx-post="/reviews/{review_id}/helpful"' in _page(voter, shop.ids.kettle_handle)
    first = _hx_post(voter, f"/reviews/{review_id}/helpful", voter.csrf_token(path))
    assert first.status_code == 200
    assert re.search(rf'id="helpful-{review_id}"[^>]*>Helpful \(1\) · You found this helpful',
                     first.get_data(as_text=True))
    again = voter.post(f"/reviews/{review_id}/helpful", csrf_from=path)
    assert again.status_code == 303 and again.headers["Location"].endswith(f"{path}#review-{review_id}")
    assert shopper(app, shop, customer_id=9).post(f"/reviews/{review_id}/helpful", csrf_from=path).status_code == 303
    with as_store(app, shop.store):
        assert db.session.get(Review, (shop.store.id, review_id)).helpful_count == 2
    anonymous = shopper(app, shop, customer_id=10)
    token = _logged_out(app, shop, anonymous)
    assert anonymous.post(f"/reviews/{review_id}/helpful", {"csrf_token": token}).status_code == 403
    assert voter.post("/reviews/999999999/helpful", csrf_from=path).status_code == 404


def test_approving_a_review_refreshes_the_cached_page(app, shop):
    visitor = shopper(app, shop)
    path = f"/products/{shop.ids.kettle_handle}"
    first = visitor.get(path)
    etag = first.headers["ETag"]
    assert "public" in first.headers["Cache-Control"]
    assert visitor.get(path, headers={"If-None-Match": etag}).status_code == 304  # kept in the page cache
    shopper(app, shop, customer_id=7).post(f"{path}/reviews", review_form(rating="3"), csrf_from=path)
    assert visitor.get(path, headers={"If-None-Match": etag}).status_code == 304  # pending: nothing changed
    _approve_all(app, shop)
    fresh = visitor.get(path, headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and "3.0 out of 5" in fresh.get_data(as_text=True)
    card = _page(visitor, shop.ids.cup_handle, "/recommendations")  # the kettle's card, under "You may also like"
    assert re.search(r"Copper Kettle.*?Rated 3\.0 out of 5 by 1 reviewers", card, re.S)
    with as_store(app, shop.store):
        review_id = db.session.scalar(sa.select(Review.id))
        service.moderate(review_id, "hide", ACTOR)
    assert "No reviews yet." in _page(visitor, shop.ids.kettle_handle)


def test_reviews_are_paged_and_sorted(app, shop):
    with as_store(app, shop.store):
        from app.catalog.models import Product

        kettle = db.session.get(Product, (shop.store.id, shop.ids.kettle))
        for n in range(12):
            review = service.submit_review(kettle, 100 + n, review_form(body=f"Review number {n}."))
            service.moderate(review.id, "approve", ACTOR)
    visitor = shopper(app, shop)
    first = _page(visitor, shop.ids.kettle_handle)
    assert "Review number 11." in first and "Review number 1." not in first and "Page 1 of 2" in first
    second = _page(visitor, shop.ids.kettle_handle, "?reviews_page=2")
    assert "Review number 1." in second and "Review number 11." not in second
    assert "Review number 11." in _page(visitor, shop.ids.kettle_handle, "?reviews_page=abc&reviews_sort=zzz")
    assert "Most helpful" in _page(visitor, shop.ids.kettle_handle, "?reviews_sort=helpful")


def test_recommendations_on_the_product_page(app, shop):
    visitor = shopper(app, shop)
    page = _page(visitor, shop.ids.kettle_handle)
    assert f'hx-get="/products/{shop.ids.kettle_handle}/recommendations"' in page  # loaded after the page
    block = _page(visitor, shop.ids.kettle_handle, "/recommendations")
    assert "You may also like" in block and "Tea Cup" in block and "Secret Draft" not in block
    with as_store(app, shop.store):
        recommendations.record_order([shop.ids.towel, shop.ids.cup])
        db.session.commit()
    towel = _page(visitor, shop.ids.towel_handle, "/recommendations")
    assert "Customers also bought" in towel and "Tea Cup" in towel
    assert visitor.get("/products/no-such-thing/recommendations").status_code == 404


def test_a_review_of_store_a_never_shows_in_store_b(app, shop, make_store):
    from app.catalog import products as catalog
    from app.theming import service as theming
    from app.theming.registry import get_theme
    from tests.reviews.conftest import store_host

    other = make_store()
    with as_store(app, other):
        catalog.create_product({"title": "Copper Kettle", "price": "60.00", "status": "active",
                                "handle": shop.ids.kettle_handle}, actor=ACTOR)
        theming.publish(get_theme("atelier"), actor=ACTOR)
    author = shopper(app, shop, customer_id=7)
    path = f"/products/{shop.ids.kettle_handle}"
    author.post(f"{path}/reviews", review_form(body="Only in store A."), csrf_from=path)
    _approve_all(app, shop)
    (review_id, *_), = _reviews(app, shop)
    b = shopper(app, shop)
    b.host = store_host(app, other)
    page = _page(b, shop.ids.kettle_handle)
    assert "Only in store A." not in page and "No reviews yet." in page
    assert b.get(f"/reviews/{review_id}/photo").status_code == 404


def test_a_vote_for_a_review_of_a_product_no_longer_sold_is_refused_and_not_counted(app, shop):
    author = shopper(app, shop, customer_id=7)
    path = f"/products/{shop.ids.kettle_handle}"
    author.upload(f"{path}/reviews", review_form(), {"photo": (png_bytes(200, 200), "p.png")}, csrf_from=path)
    _approve_all(app, shop)
    (review_id, *_), = _reviews(app, shop)
    voter = shopper(app, shop, customer_id=8)
    shown = voter.get(f"/reviews/{review_id}/photo")
    shown.close()
    assert shown.status_code == 200
    token = voter.csrf_token(path)
    with as_store(app, shop.store):
        from app.catalog.models import Product

        db.session.execute(sa.update(Product).where(Product.id == shop.ids.kettle).values(status="archived"))
        db.session.commit()
    assert voter.post(f"/reviews/{review_id}/helpful", {"csrf_token": token}).status_code == 404
    assert voter.get(f"/reviews/{review_id}/photo").status_code == 404
    with as_store(app, shop.store):
        assert db.session.get(Review, (shop.store.id, review_id)).helpful_count == 0


def test_product_cards_show_their_rating_on_collection_and_home_pages(app, shop):
    with as_store(app, shop.store):
        from app.catalog.models import Product

        for customer_id, (product_id, stars) in enumerate(((shop.ids.kettle, "5"), (shop.ids.kettle, "4"),
                                                           (shop.ids.cup, "2")), 100):
            product = db.session.get(Product, (shop.store.id, product_id))
            review = service.submit_review(product, customer_id, review_form(rating=stars))
            service.moderate(review.id, "approve", ACTOR)
    visitor = shopper(app, shop)
    listing = visitor.get(f"/collections/{shop.ids.collection}").get_data(as_text=True)
    assert "Rated 4.5 out of 5 by 2 reviewers" in listing and "Rated 2.0 out of 5 by 1 reviewers" in listing
    assert "Rated 4.5 out of 5 by 2 reviewers" in visitor.get("/").get_data(as_text=True)
