"""Running outbox rows through their handlers: the dispatch job, the kick
that queues it after a commit, and the periodic sweep.

One dispatch job per (store, queue) waits at a time: `kick` sets a marker in
Redis and queues the job only if the marker was not there; the job clears
the marker before it reads, so a commit landing while it runs queues the
next one. A job handles a bounded amount of work and then queues itself
again at the back of its queue, so one busy store cannot hold a worker
while others wait.

A store's row that fails keeps what went wrong (`last_error`,
`last_attempt_at`) and gets a back-off of its own (`next_attempt_at`:
EFFECTS_RETRY_BASE seconds, doubling, at most EFFECTS_RETRY_MAX), so a
failing mail neither hammers the SMTP server nor holds up the rows behind
it. A dispatch that met a failure queues a kick for when the first row is
due again (RQ's scheduler), and the periodic sweep kicks what is due. After
EFFECTS_MAX_ATTEMPTS the row is a dead letter: left aside, listed in the
dashboard (app.effects.dead_letters), retried or discarded from there.
Platform rows (no store) keep the older behaviour: attempts counted, no
back-off of their own, RQ's retry of the job.
"""
from __future__ import annotations

import logging
import time
from datetime import timedelta

import redis
import sqlalchemy as sa
from flask import current_app

from app.effects import HANDLERS, Handler, kick, marker
from app.effects.models import Outbox, PlatformOutbox
from app.extensions import db, get_redis
from app.jobs import each_store, job, queue as rq_queue
from tenants.context import store_context
from tenants.models import Store, placement_of

log = logging.getLogger(__name__)

BATCH = 500  # rows per handler call (batch handlers)
ROUNDS = 20  # handler calls per topic before the job yields its worker
MAX_ATTEMPTS = 25  # default of EFFECTS_MAX_ATTEMPTS: a row that failed this often is a dead letter
MAX_ERROR = 2000  # characters of a failure kept on the row


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
    A failing row keeps its place (attempts, error and back-off recorded)
    and does not hold up the others; the job then fails (HandlerFailed), and
    a dispatch is scheduled for when the row is due again."""
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
    if failed and store_id is not None:
        _kick_when_due(model, store_id, queue)
    if failed:
        raise HandlerFailed(f"outbox topics failed for store {store_id}: {', '.join(failed)}")
    return handled


def _drain_topic(model, handler: Handler) -> tuple[int, bool]:
    """Run the topic's due rows, a bounded number of rounds. With a back-off
    of their own (store rows) a failed row steps aside and the rows behind it
    still run; the failure is raised at the end."""
    handled, failure, more, stepped_aside = 0, None, True, []
    for _ in range(ROUNDS):
        rows = db.session.execute(
            sa.select(model.id, model.payload).where(model.topic == handler.topic, _due(model),
                                                     model.id.not_in(stepped_aside))
            .order_by(model.id).limit(BATCH if handler.batch else 1).with_for_update(skip_locked=True)).all()
        if not rows:
            db.session.commit()
            more = False
            break
        ids = [row.id for row in rows]
        try:
            handler.fn([row.payload for row in rows])
            db.session.execute(sa.delete(model).where(model.id.in_(ids)))
            db.session.commit()
        except Exception as error:
            db.session.rollback()
            _count_attempt(model, ids, error)
            if not _backs_off(model):
                raise
            log.exception("outbox topic %s failed for rows %s", handler.topic, ids)
            failure = error
            stepped_aside += ids  # not again in this run, whatever its back-off
            continue
        handled += len(ids)
    if failure is not None:
        raise failure
    return handled, more


def max_attempts() -> int:
    return int(current_app.config.get("EFFECTS_MAX_ATTEMPTS", MAX_ATTEMPTS))


def _backs_off(model) -> bool:
    """Store rows have a back-off of their own (and keep their last error); platform rows do not."""
    return hasattr(model, "next_attempt_at")


def _due(model):
    """Rows that are neither dead letters nor waiting out their back-off."""
    alive = model.attempts < max_attempts()
    if not _backs_off(model):
        return alive
    return alive & (model.next_attempt_at.is_(None) | (model.next_attempt_at <= sa.func.now()))


def _count_attempt(model, ids: list[int], error: Exception) -> None:
    values = {"attempts": model.attempts + 1}
    if _backs_off(model):
        base = float(current_app.config.get("EFFECTS_RETRY_BASE", 5))
        ceiling = float(current_app.config.get("EFFECTS_RETRY_MAX", 3600))
        delay = sa.func.least(base * sa.func.power(2, model.attempts), ceiling)  # attempts before this one
        values |= {"last_error": error_text(error), "last_attempt_at": sa.func.now(),
                   "next_attempt_at": sa.func.now() + sa.text("interval '1 second'") * delay}
    db.session.execute(sa.update(model).where(model.id.in_(ids)).values(**values))
    db.session.commit()
    dead = db.session.scalar(sa.select(sa.func.count()).where(model.id.in_(ids), model.attempts >= max_attempts()))
    if dead:
        log.error("%s outbox row(s) failed %s times and are left aside as dead letters: %s", dead, max_attempts(), ids)


def error_text(error: Exception) -> str:
    """What went wrong, fit for a column: the exception's kind and message, without control characters."""
    text = f"{type(error).__name__}: {error}"
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    return text if len(text) <= MAX_ERROR else text[:MAX_ERROR - 1] + "…"


def _kick_when_due(model, store_id: int, queue: str) -> None:
    """Queue a dispatch for when the first backed-off row is due again (RQ's
    scheduler, in the worker); the sweep covers a kick that gets lost."""
    seconds = db.session.scalar(
        sa.select(sa.func.extract("epoch", sa.func.min(model.next_attempt_at) - sa.func.now()))
        .where(model.attempts < max_attempts(), model.next_attempt_at.is_not(None)))
    db.session.commit()
    if seconds is None:
        return
    seconds = max(0.0, float(seconds)) + 0.5
    due = int(time.time() + seconds)  # one scheduled dispatch per (store, queue, second), however many failed
    try:
        rq_queue(queue).enqueue_in(timedelta(seconds=seconds), "app.effects.dispatch.dispatch", store_id, queue,
                                   job_id=f"outbox-retry-{store_id}-{queue}-{due}")
    except redis.RedisError:
        log.warning("could not schedule the %s outbox retry of store %s; the sweep will", queue, store_id)


def pending_queues(model) -> set[str]:
    """Queues with rows waiting in the current store (or the platform)."""
    topics = db.session.scalars(sa.select(model.topic).where(_due(model)).distinct())
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
