"""Alembic environment for the directory (public schema of the main database).

tenants.migrations passes an open owner connection in config.attributes.
"""
from alembic import context

from tenants.migrations import autogenerate_options

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table_schema="public", **autogenerate_options("public"))
with context.begin_transaction():
    context.run_migrations()
