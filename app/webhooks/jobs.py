"""RQ jobs of webhooks, on the "webhooks" queue: a store's delivery job and the periodic sweep.

A delivery job posts at most WEBHOOK_BATCH deliveries of one store, then
queues itself again at the back of the queue if more are due, so one
store's slow endpoints cannot hold every worker while other stores wait.
When nothing more is due now it schedules itself for the next retry.
"""
from __future__ import annotations

from datetime import timezone

from app.extensions import db, get_redis
from app.jobs import each_store, job
from app.webhooks import delivery
from app.webhooks.kicks import kick, kick_later, marker
from tenants.context import store_context
from tenants.models import Store, placement_of

SCHEDULE_HORIZON = 3600  # seconds: a retry further off is left to the sweep


@job
def deliver(store_id: int) -> int:
    """Post the store's due deliveries (a bounded batch); returns how many were tried."""
    get_redis().delete(marker(store_id))
    store = db.session.get(Store, store_id)
    if store is None or store.status != "active":
        return 0
    with store_context(placement_of(store)):
        tried, more = delivery.run_batch()
        if more:
            kick(store_id)  # the rest waits behind other stores' work
        else:
            _schedule_next(store_id)
    return tried


def _schedule_next(store_id: int) -> None:
    due = delivery.next_due()
    if due is None:
        return
    seconds = (due - delivery.utcnow()).total_seconds()
    if seconds <= 0:
        kick(store_id)
    elif seconds <= SCHEDULE_HORIZON:
        kick_later(store_id, seconds, due.astimezone(timezone.utc).timestamp())


@job
def sweep() -> int:
    """Periodic catch-up: queue the delivery job of every store with deliveries due (retries, lost kicks)."""
    kicked = 0
    for placement in each_store():
        if delivery.any_due():
            kick(placement.id, force=True)
            kicked += 1
    return kicked
