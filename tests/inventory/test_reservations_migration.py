"""Migration t0012 on a store with stock: down gives the held units back
and drops the table; up numbers the locations in the order they were made."""
import sqlalchemy as sa
from alembic import command

from app.catalog import products as catalog
from app.extensions import db
from app.inventory import reservations, service as inventory
from app.inventory.models import InventoryLevel, Location
from tenants.extension import state
from tenants.migrations import upgrade_schema
from tests.catalog.test_fidelity_migration import _migrate
from tests.conftest import as_store


def test_t0012_goes_down_and_up_numbering_the_locations_in_their_order(app, make_store):
    store = make_store(tier="dedicated")
    with as_store(app, store):
        for name in ("Depot", "Shop", "Van"):
            inventory.create_location(name)
        product = catalog.create_product({"title": "Cap", "price": "10", "status": "active"}, actor="m@example.com")
        variant_id = product.variants[0].id
    with as_store(app, store):
        depot = inventory.locations()[0].id
        inventory.set_on_hand(variant_id, depot, 5, reason="received", actor="m@example.com")
    with as_store(app, store):
        reservations.hold("cart:a", variant_id, 2)
    with as_store(app, store):
        inventory.move_location(inventory.locations()[2].id, "up")  # Depot, Van, Shop
    with app.app_context():
        _migrate(store.schema, command.downgrade, "t0011")
        inspector = sa.inspect(state().owner_engine("main"))
        assert "reservations" not in inspector.get_table_names(schema=store.schema)
        assert "priority" not in {c["name"] for c in inspector.get_columns("locations", schema=store.schema)}
        upgrade_schema(state().owner_engine("main"), store.schema, state().app_role)  # as `flask migrate` does
    with as_store(app, store):
        assert [location.name for location in inventory.locations()] == ["Depot", "Shop", "Van"]  # made in this order
        assert db.session.scalars(sa.select(Location.priority).order_by(Location.priority)).all() == [1, 2, 3]
        assert db.session.scalar(sa.select(InventoryLevel.reserved)) == 0  # the hold went with its table
        assert reservations.hold("cart:a", variant_id, 5).quantity == 5
