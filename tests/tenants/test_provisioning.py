"""Creating stores in both tiers, on both databases, and refusing bad input."""
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.store import service as store_service
from tenants.errors import DirectoryError
from tenants.models import Store, TenantSchema
from tenants.provisioning import create_store
from tests.conftest import as_store, flask_cli, unique_handle


def _schemas(db_key: str) -> set[str]:
    from tenants.extension import state

    with state().owner_engine(db_key).connect() as conn:
        return set(conn.execute(sa.text("SELECT nspname FROM pg_namespace")).scalars())


@pytest.mark.parametrize("db_key", ["main", "pod2"])
def test_pooled_store_is_a_row_in_an_existing_pool(ctx, make_store, db_key):
    before = _schemas(db_key) if db_key == "main" else None
    store = make_store(db_key=db_key)
    assert store.tier == "pooled" and store.schema.startswith("pool_") and store.db_key == db_key
    if before is not None:
        assert _schemas(db_key) == before  # no DDL for a pooled store
    pool = db.session.scalar(sa.select(TenantSchema).where(TenantSchema.db_key == db_key,
                                                           TenantSchema.name == store.schema))
    assert pool.kind == "pooled" and 1 <= pool.store_count <= pool.capacity
    with as_store(ctx, store):
        store_service.record("t@example.com", "test", "hello from " + db_key)
    with as_store(ctx, store):
        assert [e.summary for e in store_service.recent_activity()] == ["hello from " + db_key]


@pytest.mark.parametrize("db_key", ["main", "pod2"])
def test_dedicated_store_gets_its_own_migrated_schema(ctx, make_store, db_key):
    store = make_store(tier="dedicated", db_key=db_key)
    assert store.schema == f"store_{store.id}"
    assert store.schema in _schemas(db_key)
    with as_store(ctx, store):
        store_service.update_settings({"contact_email": "x@example.com"}, "t@example.com")
    with as_store(ctx, store):
        assert store_service.get_settings()["contact_email"] == "x@example.com"


def test_a_full_pool_makes_room_in_a_new_pool(ctx):
    from tenants.extension import state

    tenancy = state()
    pools = db.session.execute(sa.select(TenantSchema.id, TenantSchema.name, TenantSchema.store_count).where(
        TenantSchema.db_key == "pod2", TenantSchema.kind == "pooled")).all()
    with tenancy.owner_engine("main").begin() as conn:  # fill every pool on pod2
        conn.execute(sa.text("UPDATE tenant_schemas SET store_count = capacity WHERE db_key = 'pod2' "
                             "AND kind = 'pooled'"))
    db.session.rollback()
    try:
        db.session.rollback()
        store = create_store(handle=unique_handle(), name="Overflow", currency="EUR", db_key="pod2")
        assert store.schema_name not in {p.name for p in pools}
        assert store.schema_name in _schemas("pod2")
    finally:
        with tenancy.owner_engine("main").begin() as conn:
            for pool in pools:
                conn.execute(sa.text("UPDATE tenant_schemas SET store_count = :n WHERE id = :id"),
                             {"n": pool.store_count, "id": pool.id})


def test_the_worker_prepares_a_spare_pool_before_the_last_one_fills(ctx, service_env):
    from tenants.extension import state
    from tenants.provisioning import create_pool

    def pools():
        names = set(db.session.scalars(sa.select(TenantSchema.name).where(TenantSchema.kind == "pooled",
                                                                          TenantSchema.db_key == "main")))
        db.session.rollback()
        return names

    directory = state().owner_engine("main")
    with directory.begin() as conn:  # every pool on main is full...
        conn.execute(sa.text("UPDATE tenant_schemas SET store_count = capacity "
                             "WHERE db_key = 'main' AND kind = 'pooled'"))
    try:
        last = create_pool("main")  # ...but this new one, which we say has one place left
        with directory.begin() as conn:
            conn.execute(sa.text("UPDATE tenant_schemas SET store_count = capacity - 1 WHERE name = :n"),
                         {"n": last})
        before = pools()
        store = create_store(handle=unique_handle(), name="Almost full", currency="USD")
        assert store.schema_name == last
        flask_cli(service_env, "worker", "--burst", "--queue", "default")
        spare = pools() - before
        assert len(spare) == 1 and spare.pop() in _schemas("main")
    finally:  # give the pools their true counts back: the stores they hold
        with directory.begin() as conn:
            conn.execute(sa.text("UPDATE tenant_schemas t SET store_count = (SELECT count(*) FROM stores s "
                                 "WHERE s.db_key = t.db_key AND s.schema_name = t.name) "
                                 "WHERE t.db_key = 'main' AND t.kind = 'pooled'"))


@pytest.mark.parametrize("handle, message", [
    ("ab", "3–40 lowercase"),
    ("Has Space", "3–40 lowercase"),
    ("-leading", "3–40 lowercase"),
    ("double--hyphen", "3–40 lowercase"),
    ("x" * 41, "3–40 lowercase"),
    ("www", "reserved"),
    ("admin", "reserved"),
    ("api", "reserved"),
    ("static", "reserved"),
])
def test_bad_handles_are_refused_and_nothing_is_created(ctx, handle, message):
    count = db.session.scalar(sa.select(sa.func.count(Store.id)))
    with pytest.raises(DirectoryError, match=message):
        create_store(handle=handle, name="Shop", currency="USD")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Store.id))) == count


def test_duplicate_handle_bad_currency_and_unknown_database_change_nothing(ctx, make_store):
    existing = make_store()
    count = db.session.scalar(sa.select(sa.func.count(Store.id)))
    slots = db.session.scalar(sa.select(sa.func.sum(TenantSchema.store_count)))
    for kwargs, message in [
        ({"handle": existing.handle}, "taken"),
        ({"handle": unique_handle(), "currency": "XXX"}, "currency"),
        ({"handle": unique_handle(), "db_key": "nowhere"}, "Unknown database"),
        ({"handle": unique_handle(), "name": "   "}, "name"),
    ]:
        with pytest.raises(DirectoryError, match=message):
            create_store(**{"name": "Shop", "currency": "USD", **kwargs})
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Store.id))) == count
    assert db.session.scalar(sa.select(sa.func.sum(TenantSchema.store_count))) == slots


def test_cli_creates_and_lists_stores(service_env):
    handle = unique_handle("cli")
    created = flask_cli(service_env, "tenants", "create", "--handle", handle, "--name", "CLI Shop",
                        "--tier", "dedicated", "--database", "pod2")
    assert f"created {handle} (dedicated) in pod2.store_" in created.stdout
    listing = flask_cli(service_env, "tenants", "list").stdout
    assert handle in listing and "CLI Shop" in listing
    refused = flask_cli(service_env, "tenants", "create", "--handle", handle, "--name", "Again", check=False)
    assert refused.returncode != 0 and "taken" in refused.stderr
