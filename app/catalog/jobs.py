"""Catalog jobs: CSV import steps and image retries on the `imports` queue, and their sweep."""
from __future__ import annotations

from app.catalog import imports
from app.extensions import db
from app.jobs import each_store, job
from tenants.context import store_context
from tenants.models import Store, placement_of


@job
def run_import(store_id: int, job_id: int) -> str:
    """One step of a CSV import. Safe to run twice: a step only works on an
    import it could claim (queued, or left running by a dead worker)."""
    store = db.session.get(Store, store_id)
    if store is None:
        return "skipped"
    with store_context(placement_of(store)):
        return imports.run_step(job_id)


@job
def retry_images(store_id: int) -> int:
    """Fetch a store's images queued for another try. Safe to run twice: each
    batch is claimed (locked) by one run, and a fetched image is attached once."""
    store = db.session.get(Store, store_id)
    if store is None:
        return 0
    with store_context(placement_of(store)):
        return imports.retry_images()


@job
def sweep_imports() -> int:
    """Periodic: resume imports whose worker died, drop uploads too old to retry,
    and queue failed images whose backoff has passed for another try."""
    return sum(imports.sweep() for _ in each_store())
