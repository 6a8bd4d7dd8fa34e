"""Image URLs of an import kept while they cannot be fetched, to retry and to export back.

Revision ID: t0008
Revises: t0007
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "t0008"
down_revision = "t0007"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
