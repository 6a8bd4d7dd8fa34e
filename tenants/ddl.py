"""DDL helpers for tenant migrations.

Every tenant table has `store_id`, a primary key of (store_id, id), row-level
security forced on owners too, and the move-tracking trigger. The composite
key lets a store's rows keep their ids when it moves into a schema that
already holds other stores, and makes foreign keys stay inside one store.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

STORE_ID = "NULLIF(current_setting('app.store_id', true), '')::bigint"


def create_tenant_table(name: str, *columns, track_changes: bool = True, **kwargs) -> None:
    op.create_table(
        name,
        sa.Column("store_id", sa.BigInteger, nullable=False),
        sa.Column("id", sa.BigInteger, sa.Identity(always=False), nullable=False),
        *columns,
        sa.PrimaryKeyConstraint("store_id", "id"),
        **kwargs,
    )
    secure_tenant_table(name)
    if track_changes:
        op.execute(
            f"CREATE TRIGGER track_move_changes AFTER INSERT OR UPDATE OR DELETE ON {_q(name)} "
            "FOR EACH ROW EXECUTE FUNCTION track_move_changes()"
        )


def secure_tenant_table(name: str) -> None:
    table = _q(name)
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY store_isolation ON {table} "
        f"USING (store_id = {STORE_ID}) WITH CHECK (store_id = {STORE_ID})"
    )


def _q(name: str) -> str:
    return op.get_bind().dialect.identifier_preparer.quote(name)
