"""Queueing a store's delivery job: at most one waits at a time (a marker in
Redis, as for the outbox's dispatch), so a burst of events queues one job;
the job clears the marker before it reads, so an event landing while it
runs queues the next one. With Redis away deliveries wait for the sweep."""
from __future__ import annotations

import logging
from datetime import timedelta

import redis

from app.effects import after_commit
from app.extensions import get_redis
from app.jobs import enqueue, queue
from tenants.context import require_store

log = logging.getLogger(__name__)
QUEUE = "webhooks"
JOB = "app.webhooks.jobs.deliver"
KICK_TTL = 600  # a marker whose job was lost expires; the sweep covers the gap


def marker(store_id: int) -> str:
    return f"vitrine:webhooks:{int(store_id)}:deliver"


def kick(store_id: int, *, force: bool = False) -> None:
    """Queue the store's delivery job unless one waits already (`force`: the sweep's, whatever the marker says)."""
    try:
        connection = get_redis()
        if connection.set(marker(store_id), "1", nx=not force, ex=KICK_TTL):
            try:
                enqueue(JOB, store_id, queue_name=QUEUE)
            except Exception:
                connection.delete(marker(store_id))
                raise
    except redis.RedisError:
        log.warning("could not queue the webhook deliveries of store %s; the sweep will", store_id)


def kick_later(store_id: int, seconds: float, due_at: float) -> None:
    """Queue the delivery job for when the next retry is due (RQ's scheduler, in the worker). One scheduled
    job per (store, moment): later runs that find the same retry waiting do not add more."""
    try:
        queue(QUEUE).enqueue_in(timedelta(seconds=max(0.0, seconds) + 0.2), JOB, store_id,
                                job_id=f"webhooks-retry-{int(store_id)}-{int(due_at)}")
    except redis.RedisError:
        log.warning("could not schedule the webhook retries of store %s; the sweep will", store_id)


def kick_after_commit() -> None:
    """Queue the current store's delivery job once the current transaction commits."""
    after_commit(kick, require_store().id)
