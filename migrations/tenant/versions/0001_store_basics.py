"""Store settings, the activity timeline, and tier-move change tracking.

Revision ID: t0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

from tenants.ddl import create_tenant_table, secure_tenant_table

revision = "t0001"
down_revision = None
branch_labels = None
depends_on = None

TRACK_CHANGES = """
CREATE FUNCTION track_move_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed record;
    tracked boolean;
BEGIN
    IF TG_OP = 'DELETE' THEN changed := OLD; ELSE changed := NEW; END IF;
    -- The log lives beside the changed table (never wherever search_path points),
    -- and only stores in the middle of a tier move pay for it.
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I.move_tracking WHERE store_id = $1)', TG_TABLE_SCHEMA)
        INTO tracked USING changed.store_id;
    IF tracked THEN
        EXECUTE format('INSERT INTO %I.row_changes (store_id, table_name, row_id) VALUES ($1, $2, $3)',
                       TG_TABLE_SCHEMA) USING changed.store_id, TG_TABLE_NAME, changed.id;
        IF TG_OP = 'UPDATE' AND OLD.id <> NEW.id THEN
            EXECUTE format('INSERT INTO %I.row_changes (store_id, table_name, row_id) VALUES ($1, $2, $3)',
                           TG_TABLE_SCHEMA) USING OLD.store_id, TG_TABLE_NAME, OLD.id;
        END IF;
    END IF;
    RETURN NULL;
END $$
"""


def upgrade():
    # Internal: which stores are being moved, and what changed while copying.
    op.create_table(
        "move_tracking",
        sa.Column("store_id", sa.BigInteger, primary_key=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    secure_tenant_table("move_tracking")
    create_tenant_table(
        "row_changes",
        sa.Column("table_name", sa.Text, nullable=False),
        sa.Column("row_id", sa.BigInteger, nullable=False),
        track_changes=False,
    )
    op.execute(TRACK_CHANGES)

    create_tenant_table(
        "store_settings",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.dialects.postgresql.JSONB, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("store_id", "key"),
    )
    create_tenant_table(
        "activity_events",
        sa.Column("actor", sa.String(254), nullable=False),
        sa.Column("verb", sa.String(64), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("activity_events_recent", "activity_events", ["store_id", sa.text("created_at DESC")])


def downgrade():
    for table in ("activity_events", "store_settings", "row_changes", "move_tracking"):
        op.drop_table(table)
    op.execute("DROP FUNCTION track_move_changes()")
