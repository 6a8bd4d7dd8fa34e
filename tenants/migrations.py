"""Running the two Alembic sets: the directory, and every tenant schema.

Migrations run as the owner role (the URLs in DATABASES). Each tenant schema
has its own alembic_version, so `migrate_all` can be interrupted and run
again: schemas already at head are skipped. Nothing here runs at app start.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg import sql

from app.config import ROOT
from tenants.context import SCHEMA_RE


@cache
def alembic_config(kind: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations" / kind))
    return config


@cache
def head(kind: str) -> str:
    return ScriptDirectory.from_config(alembic_config(kind)).get_current_head()


def autogenerate_options(kind: str) -> dict:
    """Alembic's comparison of the models with a migrated schema, for
    env.py and tests/tenants/test_schema_drift.py.

    Compared: tables, columns (type, nullability), indexes (expression ones
    too), unique constraints, foreign keys (with ON DELETE). Not compared:
    server defaults (the models fill defaults in Python; the migrations'
    server defaults are for raw SQL) and with them computed columns' expressions
    (the drift test compares those itself), check constraints, partial-index
    predicates, index methods and operator classes, and RLS policies and
    triggers (tests/tenants/test_isolation.py checks RLS).
    """
    from app.models import public_metadata, tenant_metadata
    from tenants.tenant_model import INTERNAL_TABLES

    # Tier moves' bookkeeping tables are used through raw SQL and have no models.
    skipped = {"alembic_version", *(INTERNAL_TABLES if kind == "tenant" else ())}
    return {
        "target_metadata": tenant_metadata if kind == "tenant" else public_metadata,
        "compare_type": True,
        "compare_server_default": False,
        "include_name": lambda name, type_, parent: not (type_ == "table" and name in skipped),
    }


def _run_upgrade(kind: str, connection, schema: str | None = None) -> None:
    config = Config()
    config.set_main_option("script_location", alembic_config(kind).get_main_option("script_location"))
    config.attributes.update(connection=connection, schema=schema)
    command.upgrade(config, "head")


def ensure_app_role(owner_engine: sa.Engine, role: str, password: str | None) -> None:
    """Create the login role the web app and workers use, if missing.

    It owns nothing and is not a superuser, so row-level security applies.
    """
    with owner_engine.begin() as conn:
        exists = conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
        ident = sql.Identifier(role).as_string(None)
        if not exists:
            conn.exec_driver_sql(f"CREATE ROLE {ident} LOGIN NOSUPERUSER NOBYPASSRLS")
        if password:
            # Utility statements take no bound parameters: the password goes in as
            # a literal that psycopg quotes for this connection, never by hand.
            with conn.connection.cursor() as cursor:
                cursor.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password)))
        db_name = conn.execute(sa.text("SELECT current_database()")).scalar()
        conn.exec_driver_sql(f"GRANT CONNECT ON DATABASE {sql.Identifier(db_name).as_string(None)} TO {ident}")


def upgrade_directory(owner_engine: sa.Engine, role: str) -> None:
    with owner_engine.begin() as conn:
        _run_upgrade("public", conn)
        _grant_data_access(conn, "public", role)


def upgrade_schema(owner_engine: sa.Engine, schema: str, role: str) -> None:
    """Create `schema` if needed and bring it to the tenant head, in one transaction."""
    if not SCHEMA_RE.match(schema):
        raise ValueError(f"not a tenant schema name: {schema!r}")
    with owner_engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {sql.Identifier(schema).as_string(None)}")
        _run_upgrade("tenant", conn, schema)
        _grant_data_access(conn, schema, role)


def schema_revision(owner_engine: sa.Engine, schema: str) -> str | None:
    with owner_engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table_schema": schema})
        return context.get_current_revision()


def _grant_data_access(conn, schema: str, role: str) -> None:
    s, r = sql.Identifier(schema).as_string(None), sql.Identifier(role).as_string(None)
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {s} TO {r}")
    conn.exec_driver_sql(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {r}")
    conn.exec_driver_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {r}")
    conn.exec_driver_sql(f"REVOKE ALL ON {s}.alembic_version FROM {r}")


@dataclass
class SchemaResult:
    db_key: str
    schema: str
    outcome: str  # "migrated", "current" or "failed"
    error: str = ""


def migrate_all(owner_engines: dict[str, sa.Engine], schemas: list[tuple[str, str]], role: str,
                *, on_result=lambda result: None) -> list[SchemaResult]:
    """Bring every (db_key, schema) to head; a failed schema is reported, not fatal.

    Serial on purpose: Alembic's `op` and `context` are process-wide proxies,
    so two migrations cannot run on threads of one process.
    """
    target = head("tenant")

    def migrate_one(item: tuple[str, str]) -> SchemaResult:
        db_key, schema = item
        engine = owner_engines[db_key]
        try:
            if schema_revision(engine, schema) == target:
                return SchemaResult(db_key, schema, "current")
            upgrade_schema(engine, schema, role)
            return SchemaResult(db_key, schema, "migrated")
        except Exception as exc:  # reported per schema; the others go on
            return SchemaResult(db_key, schema, "failed", str(exc).splitlines()[0])

    results = []
    for item in schemas:
        result = migrate_one(item)
        on_result(result)
        results.append(result)
    return results
