"""A variant marked for a flash sale: its add-to-carts pass the Redis gate
(app.inventory.gate) before they reach PostgreSQL.

Revision ID: t0014
Revises: t0013
"""
import sqlalchemy as sa
from alembic import op

revision = "t0014"
down_revision = "t0013"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("variants", sa.Column("flash_sale", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade():
    op.drop_column("variants", "flash_sale")
