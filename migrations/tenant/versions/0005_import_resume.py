"""Imports that survive a dead worker and share the workers fairly: the
upload's storage key, the chunks already committed, a lease the running
step renews, and how often a worker died on it.

Revision ID: t0005
Revises: t0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "t0005"
down_revision = "t0004"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("import_jobs", sa.Column("upload_key", sa.Text))
    op.add_column("import_jobs", sa.Column("done_chunks", ARRAY(sa.Integer), nullable=False, server_default="{}"))
    op.add_column("import_jobs", sa.Column("crashes", sa.Integer, nullable=False, server_default="0"))
    op.add_column("import_jobs", sa.Column("heartbeat_at", sa.DateTime(timezone=True)))
    # Imports left "running" by a worker that died before this revision can never finish: say so.
    op.execute("UPDATE import_jobs SET status = 'failed', finished_at = now(), error = "
               "'The import stopped when its worker did. Import the file again.' WHERE status IN ('queued', 'running')")


def downgrade():
    for column in ("heartbeat_at", "crashes", "done_chunks", "upload_key"):
        op.drop_column("import_jobs", column)
