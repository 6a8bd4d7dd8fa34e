"""Alembic environment for one tenant schema.

tenants.migrations passes an open owner connection and the schema name; the
schema's own alembic_version table records where it is, so a fan-out over
many schemas can stop and resume anywhere.
"""
from alembic import context

from tenants.session import search_path_for

connection = context.config.attributes["connection"]
schema = context.config.attributes["schema"]
connection.exec_driver_sql(f"SET LOCAL search_path TO {search_path_for(schema)}")
context.configure(connection=connection, target_metadata=None, version_table_schema=schema)
with context.begin_transaction():
    context.run_migrations()
