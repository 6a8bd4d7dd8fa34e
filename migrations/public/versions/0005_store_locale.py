"""The locale a store shows and parses amounts in (CLDR: decimal comma or
point, grouping, symbol placement).

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("stores", sa.Column("locale", sa.String(16), nullable=False, server_default="en_US"))


def downgrade():
    op.drop_column("stores", "locale")
