"""Product launches: a waiting room or a draw in front of a product, and the draw's entries.

`launches` holds what the merchant set up and what became of it (a queue's
line itself is in Redis); `launch_entries` holds each customer's one entry
in a draw, its rank in the drawn order (reproducible from the launch's
recorded seed) and its purchase pass.

Revision ID: t0013
Revises: t0012
"""
import sqlalchemy as sa
from alembic import op

from tenants.ddl import create_tenant_table

revision = "t0013"
down_revision = "t0012"
branch_labels = None
depends_on = None


def _same_store_fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["store_id", column], [f"{table}.store_id", f"{table}.id"], ondelete="CASCADE")


def upgrade():
    create_tenant_table(
        "launches",
        sa.Column("product_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry_ends_at", sa.DateTime(timezone=True)),
        sa.Column("ends_at", sa.DateTime(timezone=True)),
        sa.Column("rate_per_minute", sa.Integer),
        sa.Column("winners", sa.Integer),
        sa.Column("pass_minutes", sa.Integer, nullable=False),
        sa.Column("seed", sa.String(64)),
        sa.Column("drawn_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("prewarmed_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(254), nullable=False),
        _same_store_fk("product_id", "products"),
        sa.CheckConstraint("kind IN ('queue', 'draw')", name="launches_kind"),
        sa.CheckConstraint("status IN ('scheduled', 'closed', 'drawn', 'ended')", name="launches_status"),
        sa.CheckConstraint("pass_minutes BETWEEN 1 AND 1440", name="launches_pass_minutes"),
        sa.CheckConstraint("kind <> 'queue' OR rate_per_minute BETWEEN 1 AND 60000", name="launches_rate"),
        sa.CheckConstraint("kind <> 'draw' OR (winners BETWEEN 1 AND 100000 AND entry_ends_at > starts_at)",
                           name="launches_draw"),
        sa.CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="launches_ends_at"),
    )
    op.create_index("launches_one_live", "launches", ["store_id", "product_id"], unique=True,
                    postgresql_where=sa.text("status <> 'ended'"))
    op.create_index("launches_recent", "launches", ["store_id", "created_at"])
    create_tenant_table(
        "launch_entries",
        sa.Column("launch_id", sa.BigInteger, nullable=False),
        sa.Column("customer_id", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rank", sa.Integer),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("won_at", sa.DateTime(timezone=True)),
        sa.Column("pass_expires_at", sa.DateTime(timezone=True)),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        _same_store_fk("launch_id", "launches"),
        _same_store_fk("customer_id", "customers"),
        sa.UniqueConstraint("store_id", "launch_id", "customer_id"),
        sa.UniqueConstraint("store_id", "launch_id", "rank"),
        sa.CheckConstraint("status IN ('entered', 'won', 'claimed', 'lapsed')", name="launch_entries_status"),
    )
    op.create_index("launch_entries_passes", "launch_entries", ["store_id", "launch_id", "status", "pass_expires_at"])


def downgrade():
    op.drop_index("launch_entries_passes", "launch_entries")
    op.drop_table("launch_entries")
    op.drop_index("launches_recent", "launches")
    op.drop_index("launches_one_live", "launches")
    op.drop_table("launches")
