"""Catalog fields Shopify exports carry that Vitrine kept losing.

Revision ID: t0007
Revises: t0006
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "t0007"
down_revision = "t0006"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
