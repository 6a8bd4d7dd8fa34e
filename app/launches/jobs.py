"""The launches' periodic job (app/scheduler.py, every minute): in each store,
end launches whose end time has passed, pre-warm the product page of those
about to start, and roll lapsed draw passes to the next entrants.

Idempotent (every step is guarded by the state it changes) and fair across
stores: each store gets at most MAX_PER_STORE launches' work per run, in
turn, and a draw rolls at most draw.ROLL_BATCH passes per run.
"""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.jobs import each_store, job
from app.launches import draw
from app.launches.events import launch_changed
from app.launches.models import Launch
from app.launches.service import utcnow
from app.catalog.models import Product, Variant
from app.inventory import gate
from tenants.context import require_store
from tenants.extension import state
from tenants.models import Domain

log = logging.getLogger(__name__)
PREWARM_AHEAD = timedelta(seconds=150)  # the job runs every 60 s: a page is warmed 90-150 s before the start
MAX_PER_STORE = 20
MAX_HOSTS = 5


@job
def tick(now: datetime | None = None) -> dict[str, int]:
    """One round over every store (a store that fails is logged and skipped); returns what it did."""
    done = {"ended": 0, "warmed": 0, "rolled": 0}
    for placement in each_store():
        try:
            counts = tick_store(now or utcnow())
        except Exception:  # one store's trouble (its database away, a move) must not hold up the others
            log.exception("the launches' tick failed for store %s", placement.id)
            db.session.rollback()
            continue
        for name, count in counts.items():
            done[name] += count
    return done


def tick_store(now: datetime) -> dict[str, int]:
    return {"ended": end_due(now), "warmed": prewarm_due(now),
            "rolled": sum(draw.roll(launch_id, now) for launch_id in draw.drawn_launches_due(now)[:MAX_PER_STORE])}


def end_due(now: datetime) -> int:
    """Launches past their end time are over (their product sells as usual again)."""
    ended = db.session.execute(sa.update(Launch).where(Launch.status != "ended", Launch.ends_at <= now)
                               .values(status="ended", ended_at=now)).rowcount
    if ended:
        launch_changed()
    db.session.commit()
    return ended


def prewarm_due(now: datetime) -> int:
    """Put the product page of each launch starting soon into the page cache
    (once per launch: marked before the page is loaded)."""
    rows = db.session.execute(
        sa.select(Launch.id, Product.handle)
        .join(Product, sa.and_(Product.store_id == Launch.store_id, Product.id == Launch.product_id))
        .where(Launch.status == "scheduled", Launch.prewarmed_at.is_(None),
               Launch.starts_at <= now + PREWARM_AHEAD, Launch.starts_at > now - PREWARM_AHEAD)
        .limit(MAX_PER_STORE)).all()
    if not rows:
        db.session.commit()
        return 0
    db.session.execute(sa.update(Launch).where(Launch.id.in_([launch_id for launch_id, _ in rows]))
                       .values(prewarmed_at=now))
    db.session.commit()
    hosts = store_hosts()
    for launch_id, handle in rows:
        for host in hosts:
            warm(host, f"/products/{handle}")
    _warm_gates([launch_id for launch_id, _ in rows])
    return len(rows)


def _warm_gates(launch_ids: list[int]) -> None:
    """The launched variants pass the flash-sale gate from their start, with their counters loaded."""
    variant_ids = list(db.session.scalars(
        sa.select(Variant.id).join(Launch, sa.and_(Launch.store_id == Variant.store_id,
                                                   Launch.product_id == Variant.product_id))
        .where(Launch.id.in_(launch_ids), Variant.track_inventory)))
    gate.warm(variant_ids)
    db.session.commit()


def store_hosts() -> list[str]:
    """The current store's addresses as browsers send them (its Vitrine address and verified domains)."""
    store = require_store()
    domains = list(db.session.scalars(sa.select(Domain.hostname).where(Domain.store_id == store.id,
                                                                      Domain.status == "verified")
                                      .order_by(Domain.id).limit(MAX_HOSTS - 1)))
    db.session.commit()
    return [state().store_address(store.handle), *(state().public_host(d) for d in domains)]


def warm(host: str, path: str) -> int:
    """Request the page as an anonymous shopper would, so the page cache
    keeps it; in a thread of its own, away from this job's app context and
    session. Returns the status (0 if the request failed)."""
    app = current_app._get_current_object()
    result = {"status": 0}

    def request_page():
        try:
            with app.test_client() as client:
                response = client.get(path, headers={"Host": host})
                result["status"] = response.status_code
                response.close()
        except Exception:  # a warm-up is an optimisation: never a failed job
            log.exception("pre-warming %s%s failed", host, path)

    thread = threading.Thread(target=request_page, name="launch-prewarm")
    thread.start()
    thread.join(timeout=30)
    return result["status"]
