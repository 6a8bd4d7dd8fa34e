"""Alembic environment for one tenant schema.

tenants.migrations passes an open owner connection and the schema name; the
schema's own alembic_version table records where it is, so a fan-out over
many schemas can stop and resume anywhere.
"""
from alembic import context

from tenants.migrations import autogenerate_options
from tenants.session import search_path_for

connection = context.config.attributes["connection"]
schema = context.config.attributes["schema"]
connection.exec_driver_sql(f"SET LOCAL search_path TO {search_path_for(schema)}")
context.configure(connection=connection, version_table_schema=schema, **autogenerate_options("tenant"))
with context.begin_transaction():
    context.run_migrations()
