"""Images by storage key: media requests look an image up by the key in
their path (/media/<store>/<key>), and removing a file nothing uses any
more asks whether any image still has its key.

Revision ID: t0006
Revises: t0005
"""
from alembic import op

revision = "t0006"
down_revision = "t0005"
branch_labels = None
depends_on = None


def upgrade():
    # Not CONCURRENTLY: each schema migrates in one transaction, and one schema's images are few.
    op.create_index("product_images_storage_key", "product_images", ["store_id", "storage_key"])


def downgrade():
    op.drop_index("product_images_storage_key", "product_images")
