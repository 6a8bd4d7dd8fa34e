"""One store can never see or change another's data."""
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import tenant_metadata
from app.store.models import ActivityEvent
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
