"""Search jobs, on the `search` queue."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.jobs import job
from app.search import service
from tenants.context import store_context
from tenants.models import Store
from tenants.provisioning import placement_of


@job
def apply_outbox(store_id: int) -> int:
    store = db.session.get(Store, store_id)
    if store is None:
        return 0
    with store_context(placement_of(store)):
        return service.apply_outbox()


@job
def sweep_outboxes() -> int:
    """Periodic catch-up: any store whose outbox still has rows (say the
    queue was lost with Redis) gets applied."""
    applied = 0
    for store in db.session.scalars(sa.select(Store).where(Store.status == "active").order_by(Store.id)).all():
        with store_context(placement_of(store)):
            if service.pending():
                applied += service.apply_outbox()
    return applied
