"""`tenants migrate` over hundreds of schemas: progress, per-schema failure, resume."""
import uuid

import pytest
import sqlalchemy as sa

from tenants.migrations import head, schema_revision
from tests.conftest import flask_cli

SCHEMAS = 200


@pytest.fixture
def many_schemas(app):
    """200 registered tenant schemas that have never been migrated."""
    from tenants.extension import state

    tag = uuid.uuid4().hex[:6]
    names = [f"store_m{tag}_{i:03d}" for i in range(SCHEMAS)]
    with app.app_context():
        engine = state().owner_engine("main")
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO tenant_schemas (db_key, name, kind, capacity, store_count) "
                                 "VALUES ('main', :name, 'dedicated', 1, 0)"), [{"name": n} for n in names])
        yield engine, names
        for name in names:  # one transaction each: dropping them all at once runs out of lock slots
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM tenant_schemas WHERE name = ANY(:names)"), {"names": names})


@pytest.mark.slow
def test_migrate_200_schemas_reports_a_failure_and_resumes(service_env, many_schemas):
    engine, names = many_schemas
    broken = names[120]
    with engine.begin() as conn:  # a schema someone tampered with: the migration cannot create its table
        conn.exec_driver_sql(f'CREATE SCHEMA "{broken}"')
        conn.exec_driver_sql(f'CREATE TABLE "{broken}".activity_events (oops int)')

    with engine.connect() as conn:
        total = conn.execute(sa.text("SELECT count(*) FROM tenant_schemas")).scalar()

    first = flask_cli(service_env, "tenants", "migrate", check=False)
    assert first.returncode != 0
    assert f"{SCHEMAS - 1} migrated, {total - SCHEMAS} already current, 1 failed" in first.stdout
    assert broken in first.stderr and "Migrating tenant schemas" in first.stderr
    target = head("tenant")
    assert schema_revision(engine, names[0]) == target and schema_revision(engine, names[-1]) == target
    assert schema_revision(engine, broken) is None  # rolled back whole, not half-migrated

    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP TABLE "{broken}".activity_events')
    second = flask_cli(service_env, "tenants", "migrate")
    assert f"1 migrated, {total - 1} already current, 0 failed" in second.stdout
    assert all(schema_revision(engine, name) == target for name in names)
