"""Catalog jobs, on the `default` queue."""
from __future__ import annotations

from app.catalog import imports
from app.extensions import db
from app.jobs import job
from tenants.context import store_context
from tenants.models import Store
from tenants.provisioning import placement_of


@job
def run_import(store_id: int, job_id: int) -> str:
    """Work through a CSV import. Safe to run twice: only a queued import is
    claimed, so a running or finished one is left alone."""
    store = db.session.get(Store, store_id)
    if store is None:
        return "skipped"
    with store_context(placement_of(store)):
        return imports.run(job_id)
