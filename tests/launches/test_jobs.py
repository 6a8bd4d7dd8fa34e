"""The launches' periodic job: pre-warming the product page before a start, ending launches at their end time,
rolling lapsed passes; idempotent, and registered with the scheduler."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.extensions import db
from app.jobs import rq_connection
from app.launches import draw, jobs, service
from app.launches.models import Launch, LaunchEntry
from app.scheduler import build_scheduler
from tests.conftest import Client, as_store
from tests.launches.conftest import ACTOR, draw_form, queue_form


def test_the_job_is_registered_every_minute(app):
    with app.app_context():
        registered = {(j.func_name, j.interval) for j in build_scheduler(rq_connection()).get_jobs()}
    assert ("app.launches.jobs.tick", 60) in registered


def test_the_product_page_is_warm_before_the_start(app, shop):
    now = service.utcnow()
    with as_store(app, shop.store):
        launch = service.create_launch(queue_form(shop.ids.poster, starts=now + timedelta(minutes=10)), actor=ACTOR)
        assert jobs.tick_store(now)["warmed"] == 0  # ten minutes ahead: too early
        soon = launch.starts_at - timedelta(seconds=90)
        assert jobs.tick_store(soon)["warmed"] == 1
        assert jobs.tick_store(soon)["warmed"] == 0  # once
        assert db.session.get(Launch, (shop.store.id, launch.id)).prewarmed_at == soon
    first_visit = Client(app.test_client(), host=shop.host).get(f"/products/{shop.ids.poster_handle}")
    assert first_visit.headers["X-Cache"] == "HIT" and "Join the line" in first_visit.get_data(as_text=True)
    # and the flash-sale gate is ready: the variants are hot, their counters loaded from the stock
    from app.catalog.models import Variant
    from app.extensions import get_redis
    from app.inventory import gate
    from app.inventory.service import available

    with as_store(app, shop.store):
        variant_ids = list(db.session.scalars(sa.select(Variant.id).where(Variant.product_id == shop.ids.poster)))
        units = available(variant_ids)
        for variant_id in variant_ids:
            assert gate.is_hot(variant_id)
            assert int(get_redis().get(gate._key(shop.store.id, variant_id))) == units[variant_id]


def test_launches_end_at_their_end_time_and_the_page_follows(app, shop):
    now = service.utcnow()
    with as_store(app, shop.store):
        launch = service.create_launch(queue_form(shop.ids.poster, starts=now,
                                                  ends_at=(now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")),
                                       actor=ACTOR)
        ends_at, launch_id = launch.ends_at, launch.id
    browser = Client(app.test_client(), host=shop.host)
    assert "Join the line" in browser.get(f"/products/{shop.ids.poster_handle}").get_data(as_text=True)
    with as_store(app, shop.store):
        assert jobs.tick_store(ends_at - timedelta(seconds=1))["ended"] == 0
        assert jobs.tick_store(ends_at)["ended"] == 1
        assert jobs.tick_store(ends_at)["ended"] == 0
        assert db.session.get(Launch, (shop.store.id, launch_id)).status == "ended"
    assert "Join the line" not in browser.get(f"/products/{shop.ids.poster_handle}").get_data(as_text=True)


def test_the_job_rolls_lapsed_passes_in_every_store(app, shop, make_store):
    now = service.utcnow()
    with as_store(app, shop.store):
        launch = service.create_launch(draw_form(shop.ids.sneaker, starts=now, winners=1), actor=ACTOR)
        info = service.live_launch(launch.id)
        for customer_id in (1, 2, 3):
            draw.enter(info, customer_id, now + timedelta(minutes=1))
        draw.run_draw(launch.id, now=now + timedelta(hours=1))
        launch_id = launch.id
    lapse = now + timedelta(hours=2)
    with app.app_context():
        done = jobs.tick(lapse)
        again = jobs.tick(lapse)
    assert done["rolled"] >= 1 and again["rolled"] == 0
    with as_store(app, shop.store):
        statuses = db.session.scalars(sa.select(LaunchEntry.status).where(LaunchEntry.launch_id == launch_id)
                                      .order_by(LaunchEntry.rank)).all()
    assert statuses == ["lapsed", "won", "entered"]
