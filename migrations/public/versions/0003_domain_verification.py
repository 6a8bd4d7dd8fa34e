"""Custom domains proven by DNS before they go live: a status, a
verification token and the history of checks. Domains connected before this
revision start again as pending: none of them was ever proven.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("domains", sa.Column("status", sa.String(16), nullable=False, server_default="pending"))
    op.add_column("domains", sa.Column("verification_token", sa.String(64), nullable=True))
    op.execute("UPDATE domains SET verification_token = replace(gen_random_uuid()::text, '-', '')")
    op.alter_column("domains", "verification_token", nullable=False)
    op.add_column("domains", sa.Column("verified_at", sa.DateTime(timezone=True)))
    op.add_column("domains", sa.Column("checked_at", sa.DateTime(timezone=True)))
    op.add_column("domains", sa.Column("failed_checks", sa.Integer, nullable=False, server_default="0"))
    op.add_column("domains", sa.Column("last_error", sa.Text, nullable=False, server_default=""))
    op.create_check_constraint("domains_status", "domains", "status IN ('pending', 'verified', 'failed')")


def downgrade():
    op.drop_constraint("domains_status", "domains")
    for column in ("last_error", "failed_checks", "checked_at", "verified_at", "verification_token", "status"):
        op.drop_column("domains", column)
