"""Base class for tenant tables (those living in a store's tenant schema)."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from tenants.context import require_store
from tenants.session import TENANT_BIND

# Tables a tier move must not copy: its own bookkeeping.
INTERNAL_TABLES = frozenset({"move_tracking", "row_changes"})


def _current_store_id() -> int:
    return require_store().id


class TenantModel(db.Model):
    """Rows keyed by (store_id, id); store_id defaults to the current store.

    The table itself is created by a tenant migration through
    tenants.ddl.create_tenant_table, which adds row-level security.
    """

    __abstract__ = True
    __bind_key__ = TENANT_BIND

    store_id: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, default=_current_store_id)
    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(), primary_key=True)


def data_tables() -> list[sa.Table]:
    """Every tenant table a store's data lives in, parents before children."""
    return [t for t in TenantModel.metadata.sorted_tables if t.name not in INTERNAL_TABLES]
