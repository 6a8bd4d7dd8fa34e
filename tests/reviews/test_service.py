"""Reviews in the service: submit, moderate, vote, summaries; co-purchases and recommendations."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.catalog import collections
from app.catalog import products as catalog
from app.catalog.models import Product
from app.extensions import db
from app.reviews import recommendations, service
from app.reviews.models import Review, ReviewVote
from tenants.session import tenant_engine
from tests.catalog.helpers import png_bytes
from tests.conftest import as_store
from tests.reviews.conftest import ACTOR, review_form


def _product(product_id: int) -> Product:
    return db.session.get(Product, (db.session.scalar(sa.select(Product.store_id).where(Product.id == product_id)),
                                    product_id))


def _submit(product_id: int, customer_id: int, **fields) -> Review:
    return service.submit_review(_product(product_id), customer_id, review_form(**fields))


def _sql(query: str) -> list:
    """Raw SQL in the store's tenant schema (as the app role: row-level security applies)."""
    return db.session.execute(sa.text(query), bind_arguments={"bind": tenant_engine(db)}).all()


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Review.id)))


def test_a_review_starts_pending_and_shows_once_approved(app, shop):
    with as_store(app, shop.store):
        review = _submit(shop.ids.kettle, 7)
        assert review.status == "pending" and review.helpful_count == 0
        assert service.published_reviews(shop.ids.kettle).total == 0
        assert service.summaries([shop.ids.kettle]) == {}
        service.moderate(review.id, "approve", ACTOR)
        assert [r.id for r in service.published_reviews(shop.ids.kettle).items] == [review.id]
        assert service.summaries([shop.ids.kettle]) == {shop.ids.kettle: service.Rating(4.0, 1)}
        hidden = service.moderate(review.id, "hide", ACTOR)
        assert hidden.status == "hidden" and hidden.moderated_by == ACTOR and hidden.moderated_at is not None
        assert service.published_reviews(shop.ids.kettle).total == 0


@pytest.mark.parametrize("field, value", [("rating", "0"), ("rating", "6"), ("rating", "3.5"), ("rating", "abc"),
                                          ("rating", ""), ("rating", "٣"), ("body", ""), ("body", "   "),
                                          ("body", "x" * 5001), ("title", "t" * 201), ("author_name", "")])
def test_bad_fields_are_refused_and_nothing_is_saved(app, shop, field, value):
    with as_store(app, shop.store):
        with pytest.raises(service.ReviewRefused) as refused:
            _submit(shop.ids.kettle, 7, **{field: value})
        assert refused.value.status == 422 and field in refused.value.errors
        db.session.rollback()
        assert _count() == 0


def test_every_field_at_fault_is_reported_at_once(app, shop):
    with as_store(app, shop.store):
        with pytest.raises(service.ReviewRefused) as refused:
            _submit(shop.ids.kettle, 7, rating="9", body="", title="t" * 300)
        assert set(refused.value.errors) == {"rating", "body", "title"}


def test_a_photo_that_is_no_image_is_refused_and_nothing_is_stored(app, shop):
    with as_store(app, shop.store):
        with pytest.raises(service.ReviewRefused) as refused:
            service.submit_review(_product(shop.ids.kettle), 7, review_form(), b"GIF89a not really")
        assert "photo" in refused.value.errors
        db.session.rollback()
        assert _count() == 0


def test_a_photo_is_stored_with_its_thumbnails(app, shop):
    from app.media.storage import storage

    with as_store(app, shop.store):
        review = service.submit_review(_product(shop.ids.kettle), 7, review_form(), png_bytes(900, 700))
        assert review.photo_key and storage().exists(review.photo_key)
        assert storage().exists(service.photo_file_key(review))


def test_one_review_per_customer_per_product(app, shop):
    with as_store(app, shop.store):
        _submit(shop.ids.kettle, 7)
        with pytest.raises(service.ReviewRefused) as refused:
            _submit(shop.ids.kettle, 7, body="Again")
        assert refused.value.status == 409
        db.session.rollback()
        _submit(shop.ids.cup, 7)
        _submit(shop.ids.kettle, 8)
        assert _count() == 3


def test_a_draft_product_cannot_be_reviewed(app, shop):
    with as_store(app, shop.store):
        with pytest.raises(service.ReviewError) as refused:
            _submit(shop.ids.draft, 7)
        assert refused.value.status == 404


def test_an_unknown_moderation_action_is_refused(app, shop):
    with as_store(app, shop.store):
        review = _submit(shop.ids.kettle, 7)
        with pytest.raises(service.ReviewError):
            service.moderate(review.id, "delete", ACTOR)
        assert db.session.get(Review, (shop.store.id, review.id)).status == "pending"


def test_helpful_counts_once_per_customer_and_never_for_the_author(app, shop):
    with as_store(app, shop.store):
        review = _submit(shop.ids.kettle, 7)
        with pytest.raises(service.ReviewError):  # not published yet
            service.vote_helpful(review.id, 8)
        service.moderate(review.id, "approve", ACTOR)
        assert service.vote_helpful(review.id, 8)[1] is True
        assert service.vote_helpful(review.id, 8)[1] is False
        again, counted = service.vote_helpful(review.id, 9)
        assert counted and again.helpful_count == 2
        with pytest.raises(service.ReviewError) as own:
            service.vote_helpful(review.id, 7)
        assert own.value.status == 409
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(ReviewVote.id))) == 2
        assert service.voted([review.id], 8) == {review.id} and service.voted([review.id], 10) == set()


def test_summaries_match_sql_over_published_reviews(app, shop):
    with as_store(app, shop.store):
        ratings = {shop.ids.kettle: [5, 4, 4, 2], shop.ids.cup: [3, 4, 4]}
        customer = 100
        for product_id, stars in ratings.items():
            for rating in stars:
                customer += 1
                service.moderate(_submit(product_id, customer, rating=str(rating)).id, "approve", ACTOR)
        _submit(shop.ids.kettle, 999, rating="1")  # pending: not counted
        hidden = _submit(shop.ids.cup, 998, rating="1")
        service.moderate(hidden.id, "hide", ACTOR)
        found = service.summaries([shop.ids.kettle, shop.ids.cup, shop.ids.towel])
        expected = dict(_sql("SELECT product_id, round(avg(rating), 1)::float FROM reviews "
                             "WHERE status = 'published' GROUP BY product_id"))
        assert {p: r.average for p, r in found.items()} == expected == {shop.ids.kettle: 3.8, shop.ids.cup: 3.7}
        assert found[shop.ids.kettle].count == 4 and found[shop.ids.cup].count == 3


def test_most_helpful_sorts_by_votes_then_newest(app, shop):
    with as_store(app, shop.store):
        first, second, third = (_submit(shop.ids.kettle, n) for n in (1, 2, 3))
        for review in (first, second, third):
            service.moderate(review.id, "approve", ACTOR)
        service.vote_helpful(first.id, 50)
        service.vote_helpful(first.id, 51)
        service.vote_helpful(second.id, 50)
        assert [r.id for r in service.published_reviews(shop.ids.kettle, sort="helpful").items] == \
            [first.id, second.id, third.id]
        assert [r.id for r in service.published_reviews(shop.ids.kettle).items] == [third.id, second.id, first.id]


def test_a_store_never_sees_another_stores_reviews(app, shop, make_store):
    other = make_store()
    with as_store(app, shop.store):
        review_id = _submit(shop.ids.kettle, 7).id
        service.moderate(review_id, "approve", ACTOR)
    with as_store(app, other):
        assert db.session.scalar(sa.select(sa.func.count(Review.id))) == 0
        assert _sql("SELECT count(*) FROM reviews") == [(0,)]  # row-level security, without the ORM's filters
        assert service.summaries([shop.ids.kettle]) == {}
        with pytest.raises(service.ReviewError):
            service.moderate(review_id, "hide", ACTOR)
        with pytest.raises(service.ReviewError):
            service.vote_helpful(review_id, 8)
    with as_store(app, shop.store):
        assert db.session.get(Review, (shop.store.id, review_id)).status == "published"


# -- recommendations ----------------------------------------------------------------------------------------------

def test_record_order_counts_each_pair_both_ways(app, shop):
    with as_store(app, shop.store):
        ids = shop.ids
        assert recommendations.record_order([ids.kettle, ids.cup, ids.kettle]) == 2
        assert recommendations.record_order([ids.kettle, ids.cup, ids.towel, 987654321]) == 6
        assert recommendations.record_order([ids.kettle]) == 0
        db.session.commit()
        counts = {(a, b): n for a, b, n in _sql("SELECT product_id, other_id, count FROM co_purchases")}
        assert counts == {(ids.kettle, ids.cup): 2, (ids.cup, ids.kettle): 2, (ids.kettle, ids.towel): 1,
                          (ids.towel, ids.kettle): 1, (ids.cup, ids.towel): 1, (ids.towel, ids.cup): 1}


def test_also_bought_ranks_by_co_purchases_active_only_never_itself(app, shop):
    with as_store(app, shop.store):
        ids = shop.ids
        recommendations.record_order([ids.towel, ids.kettle])
        for _ in range(3):
            recommendations.record_order([ids.towel, ids.cup])
        recommendations.record_order([ids.towel, ids.draft])
        db.session.commit()
        found = recommendations.also_bought(ids.towel, limit=2)
        assert found.product_ids == [ids.cup, ids.kettle] and found.bought_together


def test_also_bought_falls_back_to_collections_then_product_type(app, shop):
    with as_store(app, shop.store):
        ids = shop.ids
        spoon = catalog.create_product({"title": "Tea Spoon", "price": "4.00", "status": "active",
                                        "product_type": "Kitchen"}, actor=ACTOR)
        # kettle is in "Tea time" with cup; spoon shares only its type; the draft never shows.
        found = recommendations.also_bought(ids.kettle, limit=4)
        assert found.product_ids == [ids.cup, spoon.id] and not found.bought_together
        recommendations.record_order([ids.kettle, ids.towel])
        db.session.commit()
        assert recommendations.also_bought(ids.kettle, limit=4).product_ids == [ids.towel, ids.cup, spoon.id]


def test_also_bought_uses_automated_collections_that_take_the_product(app, shop):
    with as_store(app, shop.store):
        ids = shop.ids
        scarf = catalog.create_product({"title": "Wool Scarf", "price": "30.00", "status": "active",
                                        "product_type": "Accessories", "vendor": "Loom"}, actor=ACTOR)
        db.session.execute(sa.update(Product).where(Product.id == ids.towel).values(vendor="Loom"))
        db.session.commit()
        collections.create_collection({"title": "Loom"}, kind="automated",
                                      rules=[{"field": "vendor", "relation": "equals", "value": "Loom"}])
        assert recommendations.also_bought(ids.towel, limit=4).product_ids == [scarf.id]


def test_reviews_votes_and_co_purchases_move_with_the_store(app, shop):
    from tenants.moves import move_store
    from tenants.provisioning import placement_of
    from tenants.models import Store

    def everything():
        return [_sql("SELECT id, product_id, customer_id, status, helpful_count FROM reviews ORDER BY id"),
                _sql("SELECT review_id, voter_id FROM review_votes ORDER BY id"),
                _sql("SELECT product_id, other_id, count FROM co_purchases ORDER BY id")]

    with as_store(app, shop.store):
        review = _submit(shop.ids.kettle, 7)
        service.moderate(review.id, "approve", ACTOR)
        service.vote_helpful(review.id, 8)
        recommendations.record_order([shop.ids.kettle, shop.ids.cup])
        db.session.commit()
        before = everything()
    with app.app_context():
        report = move_store(shop.store.handle, to_tier="dedicated")
        moved = placement_of(db.session.scalar(sa.select(Store).where(Store.id == shop.store.id)))
    assert moved.tier == "dedicated" and report.rows["reviews"] == 1 and report.rows["co_purchases"] == 2
    with as_store(app, moved):
        assert everything() == before
        assert service.summaries([shop.ids.kettle])[shop.ids.kettle].count == 1


def test_concurrent_votes_count_each_customer_once(app, shop):
    import threading

    from tenants.context import store_context

    with as_store(app, shop.store):
        review_id = _submit(shop.ids.kettle, 7).id
        service.moderate(review_id, "approve", ACTOR)
    start = threading.Barrier(12)
    answers, failures = [], []

    def vote(voter_id: int) -> None:
        try:
            with app.app_context(), store_context(shop.store):
                start.wait()
                answers.append(service.vote_helpful(review_id, voter_id)[1])
                db.session.remove()
        except Exception as error:  # reported below, with the others
            failures.append(error)

    threads = [threading.Thread(target=vote, args=(voter,)) for voter in [50] * 6 + list(range(60, 66))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(answers) == [False] * 5 + [True] * 7  # voter 50 counted once, 60-65 once each
    with as_store(app, shop.store):
        assert db.session.get(Review, (shop.store.id, review_id)).helpful_count == 7
        assert _sql(f"SELECT count(*) FROM review_votes WHERE review_id = {review_id}") == [(7,)]


def test_reviews_from_elsewhere_have_no_customer_and_are_not_one_each(app, shop):
    with as_store(app, shop.store):
        for name in ("Imported A", "Imported B"):
            review = service.submit_review(_product(shop.ids.kettle), None, review_form(author_name=name))
            assert review.customer_id is None
        assert _count() == 2
