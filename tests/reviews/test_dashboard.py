"""Moderating reviews in the dashboard: the queue (pending first), filters, approve and hide."""
from __future__ import annotations

import pytest

from app.catalog import products as catalog
from app.extensions import db
from app.reviews import service
from app.reviews.models import Review
from tests.catalog.helpers import png_bytes
from tests.conftest import as_store
from tests.reviews.conftest import ACTOR, add_customers, review_form


@pytest.fixture
def queue(app, merchant):
    """The merchant's store with a product and three reviews: published, hidden and (newest) pending."""
    browser, account, store = merchant
    with as_store(app, store):
        product = catalog.create_product({"title": "Field Notebook", "price": "8.00", "status": "active"}, actor=ACTOR)
        add_customers()
        made = {}
        for customer, (name, action) in enumerate([("Ada", "approve"), ("Bo", "hide"), ("Cy", None)], 1):
            photo = png_bytes(300, 200) if name == "Cy" else None
            review = service.submit_review(product, customer, review_form(author_name=name, body=f"{name} wrote this."),
                                           photo)
            if action:
                service.moderate(review.id, action, ACTOR)
            made[name] = review.id
        product_id = product.id
    return browser, store, product_id, made


def _status(app, store, review_id: int) -> str:
    with as_store(app, store):
        return db.session.get(Review, (store.id, review_id)).status


def test_the_queue_lists_pending_first_and_filters_by_status(app, queue):
    browser, store, product_id, made = queue
    page = browser.get(f"/dashboard/{store.handle}/reviews")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert body.index("Cy wrote this.") < body.index("Bo wrote this.") < body.index("Ada wrote this.")
    assert "Pending (1)" in body and "Published (1)" in body and "Hidden (1)" in body and "All (3)" in body
    assert f'href="/dashboard/{store.handle}/products/{product_id}"' in body and "Field Notebook" in body
    assert f'/dashboard/{store.handle}/reviews/{made["Cy"]}/photo' in body
    assert '>Reviews</a>' in body and "style=" not in body and "<script>" not in body
    hidden = browser.get(f"/dashboard/{store.handle}/reviews?status=hidden").get_data(as_text=True)
    assert "Bo wrote this." in hidden and "Ada wrote this." not in hidden
    assert browser.get(f"/dashboard/{store.handle}/reviews?status=deleted").status_code == 400
    assert browser.get(f"/dashboard/{store.handle}/reviews?page=0").status_code == 400


def test_approve_and_hide(app, queue):
    browser, store, _, made = queue
    path = f"/dashboard/{store.handle}/reviews"
    approved = browser.post(f"{path}/{made['Cy']}", {"action": "approve", "status": "pending", "page": "1"},
                            csrf_from=path)
    assert approved.status_code == 303 and approved.headers["Location"].endswith(f"{path}?status=pending")
    assert _status(app, store, made["Cy"]) == "published"
    assert "Approved the review by Cy" in browser.get(approved.headers["Location"]).get_data(as_text=True)
    assert browser.post(f"{path}/{made['Ada']}", {"action": "hide"}, csrf_from=path).status_code == 303
    assert _status(app, store, made["Ada"]) == "hidden"
    with as_store(app, store):
        moderator = db.session.get(Review, (store.id, made["Ada"])).moderated_by
    assert moderator.endswith("@example.com")
    assert f"by {moderator}" in browser.get(f"{path}?status=hidden").get_data(as_text=True)


def test_bad_moderation_is_refused_and_changes_nothing(app, queue, make_store, make_account):
    browser, store, _, made = queue
    path = f"/dashboard/{store.handle}/reviews"
    assert browser.post(f"{path}/{made['Cy']}", {"action": "delete"}, csrf_from=path).status_code == 422
    assert browser.post(f"{path}/{made['Cy']}", {"action": "approve", "status": "x"}, csrf_from=path).status_code == 400
    assert browser.post(f"{path}/999999999", {"action": "approve"}, csrf_from=path).status_code == 404
    no_token = browser.flask.post(f"{path}/{made['Cy']}", data={"action": "approve"}, headers={"Host": "localhost"})
    assert no_token.status_code == 400
    assert _status(app, store, made["Cy"]) == "pending"


def test_another_merchants_review_is_out_of_reach(app, queue, make_account, make_store):
    from tests.conftest import Client

    _, store, _, made = queue
    stranger = make_account()
    theirs = make_store(owner=stranger)
    browser = Client(app.test_client())
    browser.login(stranger.email)
    path = f"/dashboard/{theirs.handle}/reviews"
    assert "Cy wrote this." not in browser.get(path).get_data(as_text=True)
    assert browser.post(f"{path}/{made['Cy']}", {"action": "approve"}, csrf_from=path).status_code == 404
    assert browser.get(f"{path}/{made['Cy']}/photo").status_code == 404
    assert browser.get(f"/dashboard/{store.handle}/reviews").status_code == 404
    assert _status(app, store, made["Cy"]) == "pending"


def test_the_photo_shows_to_the_merchant_before_approval(app, queue):
    browser, store, _, made = queue
    photo = browser.get(f"/dashboard/{store.handle}/reviews/{made['Cy']}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/webp" and "no-store" in photo.headers["Cache-Control"]
    photo.close()
    assert browser.get(f"/dashboard/{store.handle}/reviews/{made['Ada']}/photo").status_code == 404  # it has none
