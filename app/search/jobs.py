"""Search jobs (RQ): building a store's index when a search found none."""
from __future__ import annotations

from app.extensions import db, get_redis
from app.jobs import job
from app.search import service
from tenants.context import store_context
from tenants.models import Store
from tenants.provisioning import placement_of


@job
def build_index(store_id: int) -> bool:
    """Build the store's index unless it has one of this version already
    (a second job for the same store finds it built and does nothing)."""
    try:
        store = db.session.get(Store, store_id)
        if store is None or store.status != "active":
            return False
        with store_context(placement_of(store)):
            return service.ensure_index()
    finally:
        get_redis().delete(service.build_marker(store_id))
