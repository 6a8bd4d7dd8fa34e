"""Stock reservations (a cart's hold on units, with an expiry) and the
order in which locations give stock.

`reservations` holds, per holder (an opaque string such as "cart:<token>"),
variant and location, the units taken out of `inventory_levels.reserved`;
the sum of a level's rows is its `reserved`. Rows past `expires_at` keep
their units until the sweeper (or the next shopper who needs them) releases
them. `locations.priority` orders locations (1 first): a hold takes stock
from the first location that has enough; existing locations keep the order
they were created in.

Revision ID: t0012
Revises: t0011
"""
import sqlalchemy as sa
from alembic import op

from tenants.ddl import create_tenant_table

revision = "t0012"
down_revision = "t0011"
branch_labels = None
depends_on = None


def _same_store_fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["store_id", column], [f"{table}.store_id", f"{table}.id"], ondelete="CASCADE")


def upgrade():
    op.add_column("locations", sa.Column("priority", sa.Integer, nullable=False, server_default="0"))
    # Number every store's locations in creation order. The owner is under FORCE ROW LEVEL SECURITY
    # (with no store set it would see no rows): lifted for this statement, inside the migration's transaction.
    op.execute("ALTER TABLE locations NO FORCE ROW LEVEL SECURITY")
    op.execute("UPDATE locations SET priority = numbered.position FROM ("
               "SELECT store_id, id, row_number() OVER (PARTITION BY store_id ORDER BY created_at, id) AS position "
               "FROM locations) AS numbered "
               "WHERE locations.store_id = numbered.store_id AND locations.id = numbered.id")
    op.execute("ALTER TABLE locations FORCE ROW LEVEL SECURITY")
    op.create_index("locations_priority", "locations", ["store_id", "priority", "id"])
    create_tenant_table(
        "reservations",
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("variant_id", sa.BigInteger, nullable=False),
        sa.Column("location_id", sa.BigInteger, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _same_store_fk("variant_id", "variants"),
        _same_store_fk("location_id", "locations"),
        sa.UniqueConstraint("store_id", "holder", "variant_id", "location_id"),
        sa.CheckConstraint("quantity > 0", name="reservations_quantity"),
    )
    op.create_index("reservations_expiry", "reservations", ["store_id", "expires_at"])
    op.create_index("reservations_variant", "reservations", ["store_id", "variant_id", "expires_at"])


def downgrade():
    # The held units go back (no other kind of reservation exists at this revision).
    op.execute("ALTER TABLE inventory_levels NO FORCE ROW LEVEL SECURITY")
    op.execute("UPDATE inventory_levels SET reserved = 0 WHERE reserved <> 0")
    op.execute("ALTER TABLE inventory_levels FORCE ROW LEVEL SECURITY")
    op.drop_index("reservations_variant", "reservations")
    op.drop_index("reservations_expiry", "reservations")
    op.drop_table("reservations")
    op.drop_index("locations_priority", "locations")
    op.drop_column("locations", "priority")
