"""Counting what a store has before it makes one more, for the caps on
what one store can create (each domain names its own: locations, collections…).

The count runs under a per-store advisory lock held until the transaction
ends, so two requests at once cannot both take the last place: the second
waits for the first to commit, then counts its row too.
"""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from tenants.context import require_store
from tenants.session import tenant_engine

LIMIT_LOCK = 7_205  # advisory-lock namespace: (LIMIT_LOCK, store id), on the store's database


def count_for_insert(model) -> int:
    """How many rows of `model` the current store has; call it just before
    adding one, in the transaction that adds it."""
    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(LIMIT_LOCK, require_store().id)),
                       bind_arguments={"bind": tenant_engine(db)})
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))
