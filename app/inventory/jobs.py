"""Inventory jobs: the periodic sweep of expired holds."""
from __future__ import annotations

import logging

import sqlalchemy as sa

from app.extensions import db
from app.inventory import reservations
from app.jobs import job
from tenants.context import store_context
from tenants.models import Store, placement_of

log = logging.getLogger(__name__)

BATCH = 500  # expired rows per transaction
PASSES = 20  # rounds over the stores that still have some; the rest waits for the next run (30 s)


@job
def sweep_reservations(batch: int = BATCH, passes: int = PASSES) -> int:
    """Periodic: give back the stock of expired holds in every store. Each
    pass gives every store with expired holds one batch, so a store with a
    flash sale's worth of abandoned carts does not hold up the others. A
    store that fails (its database away, a move freezing it) is logged and
    skipped; its holds wait for the next run. Safe to run twice at once:
    each batch claims its rows with SKIP LOCKED. Returns the units released."""
    placements = [placement_of(store) for store in db.session.scalars(
        sa.select(Store).where(Store.status == "active").order_by(Store.id))]
    db.session.commit()
    released = 0
    for _ in range(passes):
        busy = []
        for placement in placements:
            try:
                with store_context(placement):
                    units, rows = reservations.sweep_batch(batch)
            except Exception:
                log.exception("sweeping the expired holds of store %s failed", placement.id)
                continue
            released += units
            if rows == batch:
                busy.append(placement)
        if not busy:
            break
        placements = busy
    return released
