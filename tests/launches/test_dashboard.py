"""Launches in the dashboard: setting up a waiting room and a draw, refusals that change nothing, the cap per store,
drawing (seed, winners, claims) and ending."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.catalog import products as catalog
from app.extensions import db
from app.launches import draw, service
from app.launches.models import Launch, LaunchEntry
from tests.conftest import as_store
from tests.launches.conftest import ACTOR, moment, set_stock
from tests.reviews.conftest import add_customers


@pytest.fixture
def owner(app, merchant):
    browser, account, store = merchant
    with as_store(app, store):
        product = catalog.create_product({"title": "Comet Jacket", "price": "250.00", "status": "active"}, actor=ACTOR)
        draft = catalog.create_product({"title": "Hidden Jacket", "price": "250.00", "status": "draft"}, actor=ACTOR)
        set_stock(product.id, 10)
        add_customers()
        ids = (product.id, draft.id)
    return browser, store, ids


def _launches(app, store) -> list[tuple]:
    with as_store(app, store):
        return db.session.execute(sa.select(Launch.kind, Launch.status, Launch.product_id)).all()


def _form(product, **fields):
    now = service.utcnow()
    return {"kind": "queue", "product_id": str(product), "starts_at": moment(now + timedelta(hours=1)),
            "ends_at": "", "pass_minutes": "10", "rate_per_minute": "120", "entry_ends_at": "", "winners": "",
            **fields}


def test_a_merchant_sets_up_a_waiting_room(app, owner):
    browser, store, (product_id, _) = owner
    path = f"/dashboard/{store.handle}/launches"
    page = browser.get(path)
    assert page.status_code == 200 and "Comet Jacket" in page.get_data(as_text=True)
    assert ">Launches</a>" in page.get_data(as_text=True) and "style=" not in page.get_data(as_text=True)
    made = browser.post(path, _form(product_id), csrf_from=path)
    assert made.status_code == 303
    detail = browser.get(made.headers["Location"]).get_data(as_text=True)
    assert "Comet Jacket: waiting room" in detail and "120 a minute" in detail and "Joined" in detail
    assert _launches(app, store) == [("queue", "scheduled", product_id)]
    listing = browser.get(path).get_data(as_text=True)
    assert "Waiting room" in listing and "Scheduled" in listing


@pytest.mark.parametrize("fields, field, status", [
    ({"kind": "raffle"}, "kind", 422),
    ({"product_id": "abc"}, "product_id", 422),
    ({"product_id": "99999999"}, "product_id", 422),
    ({"starts_at": "tomorrow"}, "starts_at", 422),
    ({"starts_at": "2020-01-01T10:00"}, "starts_at", 422),
    ({"rate_per_minute": ""}, "rate_per_minute", 422),
    ({"rate_per_minute": "0"}, "rate_per_minute", 422),
    ({"rate_per_minute": "60001"}, "rate_per_minute", 422),
    ({"pass_minutes": "1441"}, "pass_minutes", 422),
    ({"pass_minutes": "１２"}, "pass_minutes", 422),
    ({"kind": "draw", "winners": "3"}, "entry_ends_at", 422),
    ({"kind": "draw", "entry_ends_at": "2099-01-01T00:00"}, "winners", 422),
])
def test_bad_input_is_refused_with_the_field_and_changes_nothing(app, owner, fields, field, status):
    browser, store, (product_id, _) = owner
    path = f"/dashboard/{store.handle}/launches"
    refused = browser.post(path, _form(product_id, **fields), csrf_from=path)
    assert refused.status_code == status
    assert f'id="error-{field}"' in refused.get_data(as_text=True)
    assert _launches(app, store) == []


def test_a_draft_product_and_a_second_live_launch_are_refused(app, owner):
    browser, store, (product_id, draft_id) = owner
    path = f"/dashboard/{store.handle}/launches"
    draft = browser.post(path, _form(draft_id), csrf_from=path)
    assert draft.status_code == 422 and "not active" in draft.get_data(as_text=True)
    assert browser.post(path, _form(product_id), csrf_from=path).status_code == 303
    second = browser.post(path, _form(product_id, kind="draw", winners="2",
                                      entry_ends_at=moment(service.utcnow() + timedelta(hours=2))), csrf_from=path)
    assert second.status_code == 409 and "already has a launch" in second.get_data(as_text=True)
    assert len(_launches(app, store)) == 1


def test_a_store_has_at_most_fifty_launches(app, owner):
    browser, store, (product_id, _) = owner
    with as_store(app, store):
        for _ in range(service.MAX_LAUNCHES):
            launch = service.create_launch(_form(product_id), actor=ACTOR)
            service.end_launch(launch.id)
    path = f"/dashboard/{store.handle}/launches"
    refused = browser.post(path, _form(product_id), csrf_from=path)
    assert refused.status_code == 409 and "the most it can have" in refused.get_data(as_text=True)
    assert len(_launches(app, store)) == service.MAX_LAUNCHES


def test_the_merchant_draws_and_sees_the_seed_the_winners_and_the_claims(app, owner):
    browser, store, (product_id, _) = owner
    now = service.utcnow()
    with as_store(app, store):
        launch = service.create_launch(_form(product_id, kind="draw", winners="2", starts_at=moment(now),
                                             entry_ends_at=moment(now + timedelta(hours=1))), actor=ACTOR)
        info = service.live_launch(launch.id)
        for customer_id in (1, 2, 3, 4):
            draw.enter(info, customer_id, now + timedelta(minutes=1))
        launch_id = launch.id
    path = f"/dashboard/{store.handle}/launches/{launch_id}"
    early = browser.post(f"{path}/draw", {}, csrf_from=path)
    assert early.status_code == 409 and "Entries are open until" in early.get_data(as_text=True)
    assert 'disabled aria-describedby="draw-when"' in browser.get(path).get_data(as_text=True)
    with as_store(app, store):
        db.session.execute(sa.update(Launch).where(Launch.id == launch_id)
                           .values(starts_at=now - timedelta(hours=2), entry_ends_at=now - timedelta(minutes=1)))
        db.session.commit()
        service.forget_live(store.id)
    assert "disabled" not in browser.get(path).get_data(as_text=True)
    drawn = browser.post(f"{path}/draw", {}, csrf_from=path)
    assert drawn.status_code == 303
    with as_store(app, store):
        launch = db.session.get(Launch, (store.id, launch_id))
        seed, winner = launch.seed, db.session.scalar(sa.select(LaunchEntry).where(LaunchEntry.rank == 1,
                                                                                  LaunchEntry.launch_id == launch_id))
        draw.claim(service.live_launch(launch_id), draw.pass_for(winner), winner.customer_id, service.utcnow())
    page = browser.get(path).get_data(as_text=True)
    assert seed in page and "Re-drawing from the seed gives the same order." in page
    assert "Claimed" in page and "Pass until" in page and "Not drawn" in page and "1 claimed" in page
    assert browser.post(f"{path}/draw", {}, csrf_from=path).status_code == 409  # once
    ended = browser.post(f"{path}/end", {}, csrf_from=path)
    assert ended.status_code == 303 and _launches(app, store)[0][1] == "ended"
    assert browser.get(f"/dashboard/{store.handle}/launches/999999").status_code == 404
