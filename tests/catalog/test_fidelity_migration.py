"""Migration t0007 goes down and up again on a store's schema; going down
refuses, rather than loses, SKUs that variants have come to share."""
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from app.catalog import products as catalog
from tenants.extension import state
from tenants.migrations import alembic_config, head
from tests.conftest import as_store


def _migrate(schema: str, verb, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", alembic_config("tenant").get_main_option("script_location"))
    with state().owner_engine("main").begin() as conn:
        config.attributes.update(connection=conn, schema=schema)
        verb(config, revision)


def _shape(schema: str) -> tuple[set[str], bool]:
    """The new columns still there, and whether variants_sku is unique."""
    inspector = sa.inspect(state().owner_engine("main"))
    columns = {c["name"] for table in ("products", "variants", "import_jobs")
               for c in inspector.get_columns(table, schema=schema)}
    [index] = [i for i in inspector.get_indexes("variants", schema=schema) if i["name"] == "variants_sku"]
    return columns & {"category", "weight_unit", "taxable", "cost", "ignored_columns"}, bool(index["unique"])


def test_t0007_goes_down_and_up_and_refuses_to_go_down_over_shared_skus(app, make_store):
    store = make_store(tier="dedicated")
    kept = {"category", "weight_unit", "taxable", "cost", "ignored_columns"}
    with as_store(app, store):
        catalog.create_product({"title": "Cap", "price": "10", "sku": "CAP-1"}, actor="m@example.com")
    with app.app_context():
        assert _shape(store.schema) == (kept, False)
        _migrate(store.schema, command.downgrade, "t0006")
        assert _shape(store.schema) == (set(), True)
        _migrate(store.schema, command.upgrade, head("tenant"))
        assert _shape(store.schema) == (kept, False)
    with as_store(app, store):
        catalog.create_product({"title": "Other cap", "price": "10", "sku": "CAP-1"}, actor="m@example.com")
    with app.app_context():
        with pytest.raises(sa.exc.IntegrityError):
            _migrate(store.schema, command.downgrade, "t0006")
        assert _shape(store.schema) == (kept, False)  # nothing was changed
