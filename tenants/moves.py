"""Online tier moves: a store changes schema (and maybe database) while it serves.

1. Place the store at the target (a pool slot, or a new dedicated schema).
2. Start logging the store's changed rows at the source (move_tracking), and
   wait for write transactions that began before the log was on.
3. Copy every row of the store to the target from one snapshot.
4. Freeze the store's writes (writes answer 503 with Retry-After; reads and
   every other store go on), replay the rows changed since the snapshot,
   verify row counts per table, and switch the placement in the directory.
5. Clean up the source.

Anything failing before the switch undoes steps 1–4: the store stays where it
was, whole. Writers take a shared advisory lock per store (guard_write) that
the freeze takes exclusively, so no write lands at the old place after the
copy's last pass.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace

import redis
import sqlalchemy as sa
from flask import current_app, g, has_request_context
from psycopg import sql

from app.extensions import db, get_redis
from tenants.context import Placement, StoreUnavailable
from tenants.errors import DirectoryError, DirectoryErrorCode as Code, NotFound
from tenants.extension import state
from tenants.migrations import head, schema_revision
from tenants.models import Store, TenantSchema
from tenants.provisioning import allocate_pool_slot, create_dedicated_schema, drop_dedicated_schema, placement_of
from tenants.session import search_path_for
from tenants.tenant_model import data_tables

WRITE_LOCK = 7_202  # advisory-lock namespace: (WRITE_LOCK, store id), on the store's database
MOVE_LOCK = 7_203  # (MOVE_LOCK, store id) on the main database: one move per store at a time
FREEZE_TTL = 120  # seconds; a crashed mover cannot freeze a store for longer
MOVER_LOCK_TIMEOUT = "10s"  # how long the freeze may wait for writes in flight before giving up
WRITER_LOCK_TIMEOUT = "5s"  # how long a write may wait behind a freeze before answering 503


def freeze_key(store_id: int) -> str:
    return f"vitrine:store:{store_id}:frozen"


def refuse_if_frozen(store: Placement) -> None:
    """The quick check, in Redis. With Redis away it is skipped: the
    advisory lock in guard_write is what holds writes back during a freeze."""
    try:
        frozen = get_redis().exists(freeze_key(store.id))
    except redis.RedisError:
        return
    if frozen:
        raise StoreUnavailable(f"{store.handle} is being moved; try again in a moment")


def guard_write(connection, store: Placement) -> None:
    """Called at the start of every write transaction on a tenant connection:
    take the store's write lock (shared), then make sure the store still
    lives here. Two statements when no move is freezing the store."""
    if not _checked_by_this_request(store):
        refuse_if_frozen(store)
    if not connection.execute(sa.text("SELECT pg_try_advisory_xact_lock_shared(:ns, :id)"),
                              {"ns": WRITE_LOCK, "id": store.id}).scalar():
        _wait_out_a_freeze(connection, store)
    # A statement of its own, after the lock: its snapshot then sees a switch committed before the lock was ours.
    where = _placement_now(connection, store)
    if where != (store.db_key, store.schema):
        state().resolver.invalidate()
        raise StoreUnavailable(f"{store.handle} has just moved; try again")


def _checked_by_this_request(store: Placement) -> bool:
    """A write request looked at the freeze flag as it began (tenants.extension.use_store)."""
    return has_request_context() and g.get("freeze_checked") == store.id


def _wait_out_a_freeze(connection, store: Placement) -> None:
    """A move holds (or waits for) the lock exclusively: wait for it, a bounded while."""
    refuse_if_frozen(store)
    previous = connection.execute(sa.text("SELECT current_setting('lock_timeout'), "
                                          "set_config('lock_timeout', :t, true)"), {"t": WRITER_LOCK_TIMEOUT}).scalar()
    try:
        connection.execute(sa.text("SELECT pg_advisory_xact_lock_shared(:ns, :id)"),
                           {"ns": WRITE_LOCK, "id": store.id})
    except sa.exc.OperationalError:
        raise StoreUnavailable(f"{store.handle} is being moved; try again in a moment") from None
    connection.execute(sa.text("SELECT set_config('lock_timeout', :t, true)"), {"t": previous})


def _placement_now(connection, store: Placement) -> tuple[str, str] | None:
    """Where the directory says the store lives (the write's own connection
    when its database holds the directory: no second connection to check out)."""
    query = sa.text("SELECT db_key, schema_name FROM public.stores WHERE id = :id")
    if store.db_key == "main":
        return connection.execute(query, {"id": store.id}).one_or_none()
    with db.engine.connect() as directory:
        return directory.execute(query, {"id": store.id}).one_or_none()


class MoveFailed(RuntimeError):
    pass


@dataclass
class MoveReport:
    store: str
    source: str
    target: str
    rows: dict[str, int]
    replayed: int


def move_store(handle: str, *, to_tier: str, db_key: str | None = None, on_frozen=None) -> MoveReport:
    """Move a store to `to_tier` on `db_key` (default: where it is now)."""
    store = db.session.scalar(sa.select(Store).where(Store.handle == handle))
    if store is None:
        raise NotFound(f"No store with handle {handle!r}.")
    source = placement_of(store)
    db.session.rollback()
    db_key = db_key or source.db_key
    if to_tier not in ("pooled", "dedicated"):
        raise DirectoryError(Code.INVALID, "Tier must be pooled or dedicated.", "tier")
    if db_key not in state().database_urls:
        raise DirectoryError(Code.INVALID, f"Unknown database {db_key!r}.", "database")
    if (to_tier, db_key) == (source.tier, source.db_key):
        raise DirectoryError(Code.CONFLICT, f"{handle} is already {to_tier} on {db_key}.")
    if schema_revision(state().owner_engine(source.db_key), source.schema) != head("tenant"):
        raise DirectoryError(Code.CONFLICT, f"{source.schema} is not at the tenant head; run `tenants migrate`.")

    with _one_move_at_a_time(source):
        target = _place(source, to_tier, db_key)
        progress = {"switched": False}
        try:
            rows, replayed = _copy_then_switch(source, target, on_frozen, progress)
        except BaseException:
            if progress["switched"]:  # the store lives at the target now: never undo that
                current_app.logger.exception("moved %s, but a step after the switch failed", handle)
                rows, replayed = {}, 0
            else:
                _undo_target(source, target)
                raise
        _clean_source(source)
    return MoveReport(handle, f"{source.db_key}.{source.schema}", f"{target.db_key}.{target.schema}",
                      rows, replayed)


@contextmanager
def _one_move_at_a_time(store: Placement):
    with state().owner_engine("main").connect() as conn:
        if not conn.execute(sa.text("SELECT pg_try_advisory_lock(:ns, :id)"),
                            {"ns": MOVE_LOCK, "id": store.id}).scalar():
            raise DirectoryError(Code.CONFLICT, f"{store.handle} is already being moved.")
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:ns, :id)"), {"ns": MOVE_LOCK, "id": store.id})
            conn.commit()


def _place(source: Placement, to_tier: str, db_key: str) -> Placement:
    if to_tier == "dedicated":
        schema = f"store_{source.id}"
        create_dedicated_schema(db_key, schema)
    else:
        schema, _ = allocate_pool_slot(db_key)
        db.session.commit()
    return replace(source, tier=to_tier, db_key=db_key, schema=schema)


def _copy_then_switch(source: Placement, target: Placement, on_frozen, progress: dict) -> tuple[dict[str, int], int]:
    tenancy = state()
    src_engine, dst_engine = tenancy.owner_engine(source.db_key), tenancy.owner_engine(target.db_key)
    with src_engine.begin() as conn:
        _enter(conn, source)
        conn.execute(sa.text("INSERT INTO move_tracking (store_id) VALUES (:id) ON CONFLICT DO NOTHING"),
                     {"id": source.id})
    _wait_for_writers(src_engine, source)
    _copy_all(src_engine, dst_engine, source, target)

    redis = get_redis()
    redis.set(freeze_key(source.id), "1", ex=FREEZE_TTL)
    try:
        with src_engine.connect() as lock:
            _take_write_lock(lock, source)
            try:
                replayed = _replay_changes(src_engine, dst_engine, source, target)
                redis.expire(freeze_key(source.id), FREEZE_TTL)
                if on_frozen is not None:
                    on_frozen()
                rows = _verify_counts(src_engine, dst_engine, source, target)
                _switch(source, target)
                progress["switched"] = True
            finally:
                _best_effort(lambda: (lock.execute(sa.text("SELECT pg_advisory_unlock(:ns, :id)"),
                                                   {"ns": WRITE_LOCK, "id": source.id}), lock.commit()))
    finally:
        _best_effort(lambda: redis.delete(freeze_key(source.id)))
    _best_effort(state().resolver.invalidate)
    return rows, replayed


def _take_write_lock(lock, source: Placement, function: str = "pg_advisory_lock") -> None:
    """Wait (bounded) for write transactions in flight; new ones see the freeze."""
    lock.execute(sa.text("SELECT set_config('lock_timeout', :t, true)"), {"t": MOVER_LOCK_TIMEOUT})
    try:
        lock.execute(sa.text(f"SELECT {function}(:ns, :id)"), {"ns": WRITE_LOCK, "id": source.id})
    except sa.exc.OperationalError:
        raise MoveFailed(f"writes to {source.handle} did not finish within {MOVER_LOCK_TIMEOUT}; "
                         "try the move again later") from None


def _best_effort(step) -> None:
    try:
        step()
    except Exception:
        current_app.logger.exception("move clean-up step failed")


def _enter(conn, placement: Placement) -> None:
    """Point an owner connection's transaction at a store (RLS applies to owners too)."""
    conn.execute(sa.text("SELECT set_config('search_path', :p, true), set_config('app.store_id', :s, true)"),
                 {"p": search_path_for(placement.schema), "s": str(placement.id)})


def _wait_for_writers(engine: sa.Engine, source: Placement) -> None:
    """Let writes that began before change tracking was on finish (bounded)."""
    with engine.begin() as conn:
        _take_write_lock(conn, source, "pg_advisory_xact_lock")


def _stored_columns(table: sa.Table) -> list[sa.Column]:
    """Columns to copy: generated ones are PostgreSQL's to compute."""
    return [c for c in table.columns if c.computed is None]


def _columns(table: sa.Table) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c.name) for c in _stored_columns(table))


def _copy_rows(src, dst, table: sa.Table, store_id: int, ids: list[int] | None = None,
               *, upsert: bool = False) -> None:
    """Stream the store's rows of `table` (optionally only `ids`) with COPY.

    COPY lands in a temporary staging table and goes on with INSERT … SELECT:
    COPY FROM is refused on tables with row-level security for roles that do
    not bypass it, and the INSERT is where RLS checks every row.
    """
    where = sql.SQL("store_id = {}").format(sql.Literal(store_id))
    if ids is not None:
        where = sql.SQL("{} AND id = ANY({})").format(where, sql.Literal(ids))
    select = sql.SQL("SELECT {} FROM {} WHERE {}").format(_columns(table), sql.Identifier(table.name), where)
    staging = sql.Identifier(f"staging_{table.name}")
    dst.execute(sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(staging, sql.Identifier(table.name)))
    with src.cursor().copy(sql.SQL("COPY ({}) TO STDOUT (FORMAT BINARY)").format(select)) as out, \
            dst.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
                staging, _columns(table))) as inp:
        for chunk in out:
            inp.write(chunk)
    insert = sql.SQL("INSERT INTO {t} ({cols}) SELECT {cols} FROM {s}").format(
        t=sql.Identifier(table.name), cols=_columns(table), s=staging)
    if upsert:
        updates = sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c.name))
                                     for c in _stored_columns(table) if c.name not in ("store_id", "id"))
        insert = sql.SQL("{} ON CONFLICT (store_id, id) DO UPDATE SET {}").format(insert, updates)
    dst.execute(insert)


@contextmanager
def _raw(engine: sa.Engine, placement: Placement, *, isolation: str = "READ COMMITTED"):
    """A psycopg connection in a transaction pointed at `placement`; the
    caller commits, anything uncommitted is rolled back on exit."""
    pooled = engine.raw_connection()
    conn = pooled.driver_connection
    try:
        conn.execute(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
        conn.execute("SELECT set_config('search_path', %s, true), set_config('app.store_id', %s, true)",
                     (search_path_for(placement.schema), str(placement.id)))
        yield conn
    finally:
        conn.rollback()
        pooled.close()


def _copy_all(src_engine, dst_engine, source: Placement, target: Placement) -> None:
    with _raw(src_engine, source, isolation="REPEATABLE READ") as src, _raw(dst_engine, target) as dst:
        for table in data_tables():
            _copy_rows(src, dst, table, source.id)
            _advance_sequence(dst, table, source.id)
        dst.commit()


def _advance_sequence(conn, table: sa.Table, store_id: int) -> None:
    """Keep the target's id sequence ahead of the ids the store brought along."""
    top = conn.execute(sql.SQL("SELECT max(id) FROM {} WHERE store_id = %s").format(sql.Identifier(table.name)),
                       (store_id,)).fetchone()[0]
    if top is not None:
        conn.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), greatest(%s, nextval("
                     "pg_get_serial_sequence(%s, 'id'))))", (table.name, top, table.name))


def _replay_changes(src_engine, dst_engine, source: Placement, target: Placement) -> int:
    """Bring the target up to date with rows changed since the copy's snapshot."""
    with _raw(src_engine, source) as src, _raw(dst_engine, target) as dst:
        changed: dict[str, list[int]] = {}
        for name, row_id in src.execute("SELECT DISTINCT table_name, row_id FROM row_changes WHERE store_id = %s",
                                        (source.id,)):
            changed.setdefault(name, []).append(row_id)
        tables = [t for t in data_tables() if t.name in changed]
        for table in reversed(tables):  # children first: delete what the source no longer has
            present = {r[0] for r in src.execute(sql.SQL("SELECT id FROM {} WHERE store_id = %s AND id = ANY(%s)")
                                                  .format(sql.Identifier(table.name)),
                                                  (source.id, changed[table.name]))}
            gone = [i for i in changed[table.name] if i not in present]
            if gone:
                dst.execute(sql.SQL("DELETE FROM {} WHERE store_id = %s AND id = ANY(%s)").format(
                    sql.Identifier(table.name)), (source.id, gone))
        for table in tables:  # parents first: insert or update what exists at the source
            _copy_rows(src, dst, table, source.id, changed[table.name], upsert=True)
            _advance_sequence(dst, table, source.id)
        dst.commit()
        return sum(len(ids) for ids in changed.values())


def _count(engine, placement: Placement) -> dict[str, int]:
    with _raw(engine, placement) as conn:
        return {t.name: conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE store_id = %s").format(
            sql.Identifier(t.name)), (placement.id,)).fetchone()[0] for t in data_tables()}


def _verify_counts(src_engine, dst_engine, source: Placement, target: Placement) -> dict[str, int]:
    expected, got = _count(src_engine, source), _count(dst_engine, target)
    if expected != got:
        wrong = ", ".join(f"{t}: {expected[t]} → {got.get(t)}" for t in expected if expected[t] != got.get(t))
        raise MoveFailed(f"row counts differ after copying {source.handle}: {wrong}")
    return expected


def _switch(source: Placement, target: Placement) -> None:
    with state().owner_engine("main").begin() as directory:
        moved = directory.execute(sa.text(
            "UPDATE stores SET tier = :tier, db_key = :db_key, schema_name = :schema "
            "WHERE id = :id AND db_key = :old_db AND schema_name = :old_schema"),
            {"tier": target.tier, "db_key": target.db_key, "schema": target.schema, "id": source.id,
             "old_db": source.db_key, "old_schema": source.schema}).rowcount
        if moved != 1:
            raise MoveFailed(f"{source.handle} changed placement during the move")


def _delete_store_rows(engine, placement: Placement, tables) -> None:
    with _raw(engine, placement) as conn:
        for name in tables:
            conn.execute(sql.SQL("DELETE FROM {} WHERE store_id = %s").format(sql.Identifier(name)),
                         (placement.id,))
        conn.commit()


def _forget(placement: Placement) -> None:
    """Remove a store's rows (or its dedicated schema) from a place it no longer uses."""
    engine = state().owner_engine(placement.db_key)
    if placement.tier == "dedicated":
        drop_dedicated_schema(placement.db_key, placement.schema)
        return
    _delete_store_rows(engine, placement, [t.name for t in reversed(data_tables())]
                       + ["row_changes", "move_tracking"])
    with state().owner_engine("main").begin() as directory:
        directory.execute(sa.update(TenantSchema.__table__).where(
            TenantSchema.db_key == placement.db_key, TenantSchema.name == placement.schema
        ).values(store_count=TenantSchema.store_count - 1))


def _undo_target(source: Placement, target: Placement) -> None:
    try:
        _forget(target)
        _delete_store_rows(state().owner_engine(source.db_key), source, ["row_changes", "move_tracking"])
    except Exception:  # the original error matters more; leave a trace
        current_app.logger.exception("could not undo the target of %s's move", source.handle)


def _clean_source(source: Placement) -> None:
    try:
        _forget(source)
    except Exception:
        current_app.logger.exception("moved %s, but could not clean up %s", source.handle, source.schema)
