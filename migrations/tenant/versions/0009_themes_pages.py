"""Storefront themes and static pages.

`store_themes` holds, per theme a store has opened in the customizer, its
draft and published settings and homepage sections; at most one row is live.
`template_overrides` holds a store's own versions of a theme's templates,
rendered in a sandbox. `pages` are the store's static pages (about, contact,
policies).

Revision ID: t0009
Revises: t0008
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from tenants.ddl import create_tenant_table

revision = "t0009"
down_revision = "t0008"
branch_labels = None
depends_on = None


def upgrade():
    create_tenant_table(
        "store_themes",
        sa.Column("theme", sa.String(64), nullable=False),
        sa.Column("draft", JSONB, nullable=False),
        sa.Column("published", JSONB),
        sa.Column("live", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("store_id", "theme"),
    )
    op.create_index("store_themes_live", "store_themes", ["store_id"], unique=True,
                    postgresql_where=sa.text("live"))
    create_tenant_table(
        "template_overrides",
        sa.Column("theme", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("updated_by", sa.String(254), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("store_id", "theme", "name"),
    )
    create_tenant_table(
        "pages",
        sa.Column("handle", sa.String(255), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("published", sa.Boolean, nullable=False),
        sa.Column("seo_description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("store_id", "handle"),
    )


def downgrade():
    op.drop_table("pages")
    op.drop_table("template_overrides")
    op.drop_index("store_themes_live", "store_themes")
    op.drop_table("store_themes")
