"""Alembic environment for the directory (public schema of the main database).

tenants.migrations passes an open owner connection in config.attributes.
"""
from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, version_table_schema="public")
with context.begin_transaction():
    context.run_migrations()
