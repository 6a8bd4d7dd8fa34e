"""Running outbox rows through their handlers: the dispatch job, the kick
that queues it after a commit, and the periodic sweep.

One dispatch job per (store, queue) waits at a time: `kick` sets a marker in
Redis and queues the job only if the marker was not there; the job clears
the marker before it reads, so a commit landing while it runs queues the
next one. A job handles a bounded amount of work and then queues itself
again at the back of its queue, so one busy store cannot hold a worker
while others wait.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa

from app.effects import HANDLERS, Handler, kick, marker
from app.effects.models import Outbox, PlatformOutbox
from app.extensions import db, get_redis
from app.jobs import each_store, job
from tenants.context import store_context
from tenants.models import Store, placement_of

log = logging.getLogger(__name__)

BATCH = 500  # rows per handler call (batch handlers)
ROUNDS = 20  # handler calls per topic before the job yields its worker
MAX_ATTEMPTS = 25  # a row that failed this often is left aside (and logged) instead of retried


class HandlerFailed(RuntimeError):
    """Some topics failed; their rows stay for the retry."""


@job
def dispatch(store_id: int | None, queue: str) -> int:
    """Hand the store's (or the platform's) pending rows for `queue` to their handlers."""
    get_redis().delete(marker(store_id, queue))
    if store_id is None:
        return drain(PlatformOutbox, queue, None)
    store = db.session.get(Store, store_id)
    if store is None or store.status != "active":
        return 0
    with store_context(placement_of(store)):
        return drain(Outbox, queue, store_id)


def drain(model, queue: str, store_id: int | None) -> int:
    """Run the rows of every topic on `queue`; returns how many were handled.
    A failing topic keeps its rows (attempts counted) and does not hold up
    the others; the job then fails, so RQ retries it with back-off."""
    handled, failed, more = 0, [], False
    for handler in [h for h in HANDLERS.values() if h.queue == queue]:
        try:
            count, left = _drain_topic(model, handler)
        except Exception:
            log.exception("outbox topic %s failed for store %s", handler.topic, store_id)
            failed.append(handler.topic)
            continue
        handled += count
        more = more or left
    if more:
        kick(store_id, queue)  # the rest waits behind other stores' work
    if failed:
        raise HandlerFailed(f"outbox topics failed for store {store_id}: {', '.join(failed)}")
    return handled


def _drain_topic(model, handler: Handler) -> tuple[int, bool]:
    handled = 0
    for _ in range(ROUNDS):
        rows = db.session.execute(
            sa.select(model.id, model.payload).where(model.topic == handler.topic, model.attempts < MAX_ATTEMPTS)
            .order_by(model.id).limit(BATCH if handler.batch else 1).with_for_update(skip_locked=True)).all()
        if not rows:
            db.session.commit()
            return handled, False
        ids = [row.id for row in rows]
        try:
            handler.fn([row.payload for row in rows])
            db.session.execute(sa.delete(model).where(model.id.in_(ids)))
            db.session.commit()
        except Exception:
            db.session.rollback()
            _count_attempt(model, ids)
            raise
        handled += len(ids)
    return handled, True


def _count_attempt(model, ids: list[int]) -> None:
    db.session.execute(sa.update(model).where(model.id.in_(ids)).values(attempts=model.attempts + 1))
    db.session.commit()
    dead = db.session.scalar(sa.select(sa.func.count()).where(model.id.in_(ids), model.attempts >= MAX_ATTEMPTS))
    if dead:
        log.error("%s outbox row(s) failed %s times and are left aside: %s", dead, MAX_ATTEMPTS, ids)


def pending_queues(model) -> set[str]:
    """Queues with rows waiting in the current store (or the platform)."""
    topics = db.session.scalars(sa.select(model.topic).where(model.attempts < MAX_ATTEMPTS).distinct())
    return {HANDLERS[topic].queue for topic in topics if topic in HANDLERS}


@job
def sweep() -> int:
    """Periodic catch-up: kick every store (and the platform) with rows
    waiting, say after Redis lost its queues or the workers were down."""
    kicked = 0
    for queue in pending_queues(PlatformOutbox):
        kick(None, queue, force=True)
        kicked += 1
    db.session.commit()
    for store in each_store():
        for queue in pending_queues(Outbox):
            kick(store.id, queue, force=True)
            kicked += 1
    return kicked
