"""The SQLAlchemy session that routes tenant tables to the current store.

Tenant models use the bind key "tenant". `get_bind` sends them to the engine
of the store's database; `after_begin` runs at the start of every transaction
on that engine and sets, for that transaction only, the schema search path
and the row-level-security store id. Write transactions also pass the move
guard (tenants.moves) so a store being switched between schemas cannot take
writes at the old place.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_sqlalchemy.session import Session
from psycopg import sql
from sqlalchemy import event
from sqlalchemy.sql.util import find_tables

from tenants.context import require_store, writable

TENANT_BIND = "tenant"


def _is_tenant_table(table) -> bool:
    return getattr(table, "metadata", None) is not None and table.metadata.info.get("bind_key") == TENANT_BIND


class TenantSession(Session):
    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and self._touches_tenant_tables(mapper, clause):
            return self._db.engines[f"tenant:{require_store().db_key}"]
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)

    @staticmethod
    def _touches_tenant_tables(mapper, clause) -> bool:
        if mapper is not None:
            return _is_tenant_table(sa.inspect(mapper).local_table)
        if clause is not None:
            return any(_is_tenant_table(t) for t in find_tables(clause, include_crud=True))
        return False


def tenant_engine(db, store=None) -> sa.Engine:
    """The app-role engine holding `store`'s data (default: the current store)."""
    return db.engines[f"tenant:{(store or require_store()).db_key}"]


def search_path_for(schema: str) -> str:
    return sql.SQL("{}, public").format(sql.Identifier(schema)).as_string(None)


@event.listens_for(TenantSession, "after_begin")
def _enter_store(session, transaction, connection):
    if transaction.nested:
        return  # a savepoint inside a transaction that was already set up
    if not any(key.startswith("tenant:") and engine is connection.engine
               for key, engine in session._db.engines.items() if key):
        return
    store = require_store()
    connection.execute(
        sa.text("SELECT set_config('search_path', :path, true), set_config('app.store_id', :sid, true)"),
        {"path": search_path_for(store.schema), "sid": str(store.id)},
    )
    if writable():
        from tenants.moves import guard_write

        guard_write(connection, store)
