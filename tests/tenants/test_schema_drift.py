"""The models and the migrations describe the same tables.

Alembic's autogenerate compares the models' metadata with freshly migrated
schemas; any difference it finds (or warning it gives) is drift. It leaves
out server defaults and with them computed columns, so their expressions are
compared here. What is and is not compared: tenants.migrations.autogenerate_options.
"""
import re
import warnings

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tenants.extension import state
from tenants.migrations import autogenerate_options


def _drift(engine: sa.Engine, kind: str) -> list:
    options = autogenerate_options(kind)
    metadata = options["target_metadata"]
    with engine.connect() as conn, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        differences = compare_metadata(MigrationContext.configure(conn, opts=options), metadata)
        differences += _computed_column_drift(sa.inspect(conn), metadata)
    return [*differences, *(f"warning: {w.message}" for w in caught)]


def _computed_column_drift(inspector, metadata: sa.MetaData) -> list[str]:
    found = []
    for table in metadata.tables.values():
        in_database = {c["name"]: c.get("computed", {}).get("sqltext") for c in inspector.get_columns(table.name)}
        for column in table.columns:
            in_model = column.server_default.sqltext.text if isinstance(column.server_default, sa.Computed) else None
            if _normalized(in_model) != _normalized(in_database.get(column.name)):
                found.append(f"computed {table.name}.{column.name}: database {in_database.get(column.name)!r}, "
                             f"model {in_model!r}")
    return found


def _normalized(expression: str | None) -> str | None:
    """PostgreSQL gives back an expression with casts and parentheses added."""
    return None if expression is None else re.sub(r"::[a-z ]+|[\s()'\"]", "", expression.lower())


def test_directory_models_match_the_migrated_public_schema(ctx):
    drift = _drift(state().owner_engine("main"), "public")
    assert not drift, "\n".join(map(str, drift))


def test_tenant_models_match_a_freshly_migrated_tenant_schema(ctx, make_store):
    store = make_store(tier="dedicated")
    # Alembic compares the connection's default schema: make it the store's.
    engine = sa.create_engine(state().database_urls["main"], poolclass=sa.pool.NullPool,
                              connect_args={"options": f"-csearch_path={store.schema}"})
    try:
        drift = _drift(engine, "tenant")
    finally:
        engine.dispose()
    assert not drift, "\n".join(map(str, drift))
