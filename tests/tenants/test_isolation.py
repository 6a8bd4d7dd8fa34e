"""One store can never see or change another's data."""
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import tenant_metadata
from app.store.models import ActivityEvent
from tenants.context import store_context
from tenants.extension import state
from tenants.session import search_path_for, tenant_engine
from tenants.tenant_model import INTERNAL_TABLES
from tests.conftest import as_store


def test_app_role_is_neither_superuser_nor_owner_nor_rls_exempt(ctx, make_store):
    store = make_store()
    with as_store(ctx, store):
        conn = db.session.connection(bind_arguments={"bind": tenant_engine(db)})
        role = conn.execute(sa.text(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        owner = conn.execute(sa.text(
            "SELECT tableowner FROM pg_tables WHERE schemaname = :s AND tablename = 'activity_events'"),
            {"s": store.schema}).scalar()
    assert role.rolname == "vitrine_app"
    assert not role.rolsuper and not role.rolbypassrls
    assert owner != role.rolname


def test_raw_sql_in_a_shared_pool_sees_and_changes_only_the_current_store(ctx, make_store):
    a, b = make_store(name="Store A"), make_store(name="Store B")
    assert a.schema == b.schema, "both stores should share a pool schema"
    with as_store(ctx, a):
        db.session.add(ActivityEvent(actor="a@example.com", verb="test", summary="A's own"))
    with as_store(ctx, b):
        db.session.add(ActivityEvent(actor="b@example.com", verb="test", summary="B's secret"))

    with as_store(ctx, a):
        conn = db.session.connection(bind_arguments={"bind": tenant_engine(db)})
        rows = conn.execute(sa.text("SELECT store_id, summary FROM activity_events")).all()
        assert rows and all(store_id == a.id for store_id, _ in rows)
        assert not any("B's secret" in summary for _, summary in rows)
        # Even naming B's id explicitly finds nothing and changes nothing.
        assert conn.execute(sa.text("SELECT count(*) FROM activity_events WHERE store_id = :b"),
                            {"b": b.id}).scalar() == 0
        assert conn.execute(sa.text("UPDATE activity_events SET summary = 'pwned' WHERE store_id = :b"),
                            {"b": b.id}).rowcount == 0
        assert conn.execute(sa.text("DELETE FROM activity_events WHERE store_id = :b"), {"b": b.id}).rowcount == 0
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
            with db.session.begin_nested():
                conn.execute(sa.text("INSERT INTO activity_events (store_id, actor, verb, summary) "
                                     "VALUES (:b, 'x', 'x', 'planted')"), {"b": b.id})

    with as_store(ctx, b):
        summaries = db.session.scalars(sa.select(ActivityEvent.summary)).all()
    assert "B's secret" in summaries and "pwned" not in summaries and "planted" not in summaries


def test_tenant_tables_without_a_store_context_are_refused(ctx):
    from tenants.context import NoStoreContext

    with pytest.raises(NoStoreContext):
        db.session.scalars(sa.select(ActivityEvent)).all()


def test_no_rows_without_the_store_setting_even_on_the_tenant_connection(ctx, make_store):
    a, b = make_store(), make_store()
    assert a.schema == b.schema, "both stores should share a pool schema"
    for store in (a, b):
        with as_store(ctx, store):
            db.session.add(ActivityEvent(actor="x@example.com", verb="test", summary="in the pool"))
    count = sa.text("SELECT count(*) FROM activity_events")
    with tenant_engine(db, a).connect() as conn:
        conn.execute(sa.text("SELECT set_config('search_path', :path, true)"), {"path": search_path_for(a.schema)})
        assert conn.execute(count).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM activity_events WHERE store_id IN (:a, :b)"),
                            {"a": a.id, "b": b.id}).scalar() == 0
        for store in (a, b):  # the same query does find each store's rows once its id is set
            conn.execute(sa.text("SELECT set_config('app.store_id', :id, true)"), {"id": str(store.id)})
            assert conn.execute(count).scalar() >= 1


def test_every_tenant_table_on_every_database_forces_its_store_policy(ctx, make_store):
    """Read from the catalogue: FORCE only matters to the owner role (which
    migrations use), so no query the app makes would notice it missing."""
    made = [make_store(tier="dedicated"), make_store(tier="dedicated", db_key="pod2"), make_store(db_key="pod2")]
    expected = {table.name for table in tenant_metadata.tables.values()} | INTERNAL_TABLES
    tables_by_schema, wrong = {}, []
    for db_key in state().database_urls:
        with state().owner_engine(db_key).connect() as conn:
            rows = conn.execute(sa.text("""
                SELECT n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity, p.cmd, p.qual, p.with_check
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_policies p
                  ON p.schemaname = n.nspname AND p.tablename = c.relname AND p.policyname = 'store_isolation'
                WHERE c.relkind IN ('r', 'p') AND n.nspname ~ '^(pool|store)_' AND c.relname <> 'alembic_version'
            """)).all()
        for schema, table, enabled, forced, cmd, qual, with_check in rows:
            tables_by_schema.setdefault((db_key, schema), set()).add(table)
            policy = "store_id = (NULLIF(current_setting('app.store_id'::text, true), ''::text))::bigint"
            if not (enabled and forced and cmd == "ALL" and policy in (qual or "") and policy in (with_check or "")):
                wrong.append(f"{db_key}.{schema}.{table}: enabled={enabled} forced={forced} policy={cmd} {qual}")
    assert {(store.db_key, store.schema) for store in made} <= tables_by_schema.keys()
    assert {key: tables for key, tables in tables_by_schema.items() if tables != expected} == {}
    assert wrong == []


@contextmanager
def _backends_checked_out(engine: sa.Engine):
    """The backend pids of the connections `engine`'s pool hands out inside the block."""
    pids = set()

    def checkout(dbapi_connection, record, proxy):
        pids.add(dbapi_connection.info.backend_pid)

    sa.event.listen(engine, "checkout", checkout)
    try:
        yield pids
    finally:
        sa.event.remove(engine, "checkout", checkout)


def _settings_of_idle_connections(engine: sa.Engine) -> dict[int, tuple]:
    """pid -> (app.store_id, search_path, search_path's session default) of
    each connection waiting in the pool. Checked out all at once, so the pool
    hands out every idle one and opens none."""
    connections = [engine.connect() for _ in range(engine.pool.checkedin())]
    try:
        return {row[0]: tuple(row[1:]) for row in (conn.execute(sa.text(
            "SELECT pg_backend_pid(), current_setting('app.store_id', true), current_setting('search_path'), "
            "reset_val FROM pg_settings WHERE name = 'search_path'")).one() for conn in connections)}
    finally:
        for conn in connections:
            conn.close()


def _assert_back_to_defaults(engine: sa.Engine, used: set[int]) -> None:
    settings = _settings_of_idle_connections(engine)
    assert used and used <= settings.keys(), "the connections used should be back in the pool"
    for pid in used:
        store_id, search_path, default_search_path = settings[pid]
        assert store_id in (None, ""), f"backend {pid} still acts as store {store_id}"
        assert search_path == default_search_path, f"backend {pid} still has search_path {search_path}"


def test_a_pooled_connection_forgets_the_store_after_a_store_context(app, make_store):
    store = make_store()
    with app.app_context():
        engine = tenant_engine(db, store)
        with _backends_checked_out(engine) as used:
            with store_context(store):  # a committed write, as jobs and commands make
                db.session.add(ActivityEvent(actor="job", verb="test", summary="committed"))
                in_context = db.session.connection(bind_arguments={"bind": engine}).execute(
                    sa.text("SELECT current_setting('app.store_id')")).scalar()
        assert in_context == str(store.id)
        _assert_back_to_defaults(engine, used)


def test_a_pooled_connection_forgets_the_store_after_a_request_to_it(app, merchant):
    browser, _, store = merchant
    with app.app_context():
        engine = tenant_engine(db, store)
    # A write: a request whose transaction is rolled back would undo even a session-wide setting.
    with _backends_checked_out(engine) as used:
        page = f"/dashboard/{store.handle}/locations"
        assert browser.post(page, {"name": "Back room"}, csrf_from=page).status_code == 302
    with app.app_context():
        _assert_back_to_defaults(engine, used)
