"""Imports that survive a dead worker: a cursor, a lease, attempts.

Revision ID: t0005
Revises: t0004
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "t0005"
down_revision = "t0004"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
