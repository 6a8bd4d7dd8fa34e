"""The SQLAlchemy session that routes tenant tables to the current store.

Tenant models use the bind key "tenant". `get_bind` sends them to the engine
of the store's database; `after_begin` runs at the start of every transaction
on that engine and sets, for that transaction only, the schema search path
and the row-level-security store id.

The first write of a transaction to tenant tables (a flush, or an INSERT,
UPDATE or DELETE statement) passes the move guard (tenants.moves), so a store
being switched between schemas cannot take writes at the old place. Reads
never do: a request that committed its write and then reads what it saved
(for the page it answers with) is never refused afterwards.
"""
from __future__ import annotations

import itertools

import sqlalchemy as sa
from flask_sqlalchemy.session import Session
from psycopg import sql
from sqlalchemy import event
from sqlalchemy.sql.util import find_tables

from tenants.context import require_store

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


def _is_tenant_connection(session, connection) -> bool:
    return any(key and key.startswith("tenant:") and engine is connection.engine
               for key, engine in session._db.engines.items())


@event.listens_for(TenantSession, "after_begin")
def _enter_store(session, transaction, connection):
    if transaction.nested or not _is_tenant_connection(session, connection):
        return  # a savepoint inside a transaction that was already set up, or the directory
    store = require_store()
    connection.execute(
        sa.text("SELECT set_config('search_path', :path, true), set_config('app.store_id', :sid, true)"),
        {"path": search_path_for(store.schema), "sid": str(store.id)},
    )


@event.listens_for(TenantSession, "before_flush")
def _guard_flush(session, flush_context, instances):
    changed = itertools.chain(session.new, session.dirty, session.deleted)
    if any(_is_tenant_table(sa.inspect(obj).mapper.local_table) for obj in changed):
        _guard_write(session)


@event.listens_for(TenantSession, "do_orm_execute")
def _guard_statement(orm_execute_state):
    if orm_execute_state.is_insert or orm_execute_state.is_update or orm_execute_state.is_delete:
        if any(_is_tenant_table(t) for t in find_tables(orm_execute_state.statement, include_crud=True)):
            _guard_write(orm_execute_state.session)


def _guard_write(session) -> None:
    """Once per transaction, before its first tenant write."""
    root = session.get_transaction()
    if root is not None and session.info.get("write_guarded") is root:
        return
    from tenants.moves import guard_write  # moves builds on this module

    store = require_store()
    connection = session.connection(bind_arguments={"bind": session._db.engines[f"tenant:{store.db_key}"]})
    guard_write(connection, store)
    session.info["write_guarded"] = session.get_transaction()
