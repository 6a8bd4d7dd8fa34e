"""Products with options and variants: create, edit, options, SKUs, sanitizing."""
import pytest
import sqlalchemy as sa

from app.catalog import products as catalog
from app.catalog.errors import CatalogError
from app.catalog.models import Product, Variant
from app.catalog.products import OptionSpec
from app.extensions import db
from tests.conftest import as_store

ACTOR = "merchant@example.com"


def _count(model):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _shirt(**overrides):
    data = {"title": "Linen Shirt", "price": "49.50", "sku": "SHIRT", "vendor": "Acme", "tags": "summer, linen",
            "status": "active", **overrides}
    return catalog.create_product(data, options=[OptionSpec("Size", ["S", "M"]), OptionSpec("Color", ["Sand", "Sky"])],
                                  actor=ACTOR)


def test_create_with_two_options_makes_four_variants(app, make_store):
    store = make_store()
    with as_store(app, store):
        product = _shirt()
        product = catalog.get_product(product.id)
        assert product.handle == "linen-shirt"
        assert [o.name for o in product.options] == ["Size", "Color"]
        assert [v.title for v in product.variants] == ["S / Sand", "S / Sky", "M / Sand", "M / Sky"]
        assert {v.price for v in product.variants} == {4950}
        assert [v.sku for v in product.variants] == ["SHIRT-S-SAND", "SHIRT-S-SKY", "SHIRT-M-SAND", "SHIRT-M-SKY"]
        assert product.tags == ["summer", "linen"]


def test_edit_fields_and_variants(app, make_store):
    with as_store(app, make_store()):
        product = _shirt()
        catalog.update_product(product, {"title": "Linen Shirt II", "status": "archived"}, actor=ACTOR)
        variant = product.variants[1]
        catalog.update_variant(product, variant.id, {"price": "55", "compare_at_price": "60.00", "sku": "SHIRT-S-SKY",
                                                     "weight_grams": "180", "track_inventory": "on",
                                                     "low_stock_threshold": "3"}, actor=ACTOR)
        product = catalog.get_product(product.id)
        assert product.title == "Linen Shirt II" and product.status == "archived" and product.handle == "linen-shirt"
        assert (product.variants[1].price, product.variants[1].compare_at_price) == (5500, 6000)
        assert product.variants[1].sku == "SHIRT-S-SKY" and product.variants[1].low_stock_threshold == 3


def test_adding_a_value_adds_variants_and_removing_one_asks_first(app, make_store):
    with as_store(app, make_store()):
        product = _shirt()
        kept_id = product.variants[0].id
        result = catalog.set_options(product, [OptionSpec("Size", ["S", "M", "L"]),
                                               OptionSpec("Color", ["Sand", "Sky"])], confirm=False, actor=ACTOR)
        assert result == {"added": 2, "removed": 0}
        product = catalog.get_product(product.id)
        assert len(product.variants) == 6 and product.variants[0].id == kept_id

        smaller = [OptionSpec("Size", ["S", "L"]), OptionSpec("Color", ["Sand", "Sky"])]
        with pytest.raises(CatalogError, match="deletes 2 variants") as asked:
            catalog.set_options(product, smaller, confirm=False, actor=ACTOR)
        assert asked.value.status == 409
        db.session.rollback()
        assert len(catalog.get_product(product.id).variants) == 6  # nothing deleted without confirmation
        product = catalog.get_product(product.id)
        assert catalog.set_options(product, smaller, confirm=True, actor=ACTOR) == {"added": 0, "removed": 2}
        assert [v.title for v in catalog.get_product(product.id).variants] == [
            "S / Sand", "S / Sky", "L / Sand", "L / Sky"]


def test_a_new_option_keeps_existing_variants_under_its_first_value(app, make_store):
    with as_store(app, make_store()):
        product = catalog.create_product({"title": "Mug", "price": "12"}, options=[OptionSpec("Size", ["S", "L"])],
                                         actor=ACTOR)
        ids = [v.id for v in product.variants]
        catalog.set_options(product, [OptionSpec("Size", ["S", "L"]), OptionSpec("Glaze", ["Matte", "Gloss"])],
                            confirm=False, actor=ACTOR)
        product = catalog.get_product(product.id)
        assert [v.title for v in product.variants] == ["S / Matte", "S / Gloss", "L / Matte", "L / Gloss"]
        assert {product.variants[0].id, product.variants[2].id} == set(ids)


@pytest.mark.parametrize("data, options, message", [
    ({"title": ""}, [], "title"),
    ({"title": "X", "price": "-5"}, [], "not an amount"),
    ({"title": "X", "price": "4.999"}, [], "more precision"),
    ({"title": "X", "price": "ten"}, [], "not an amount"),
    ({"title": "X", "price": "1", "status": "live"}, [], "draft, active or archived"),
    ({"title": "X", "price": "1", "handle": "Bad Handle"}, [], "lowercase"),
    ({"title": "X", "price": "1"}, [OptionSpec("A", ["1"]), OptionSpec("B", ["1"]), OptionSpec("C", ["1"]),
                                    OptionSpec("D", ["1"])], "at most 3 options"),
    ({"title": "X", "price": "1"}, [OptionSpec("Size", [])], "at least one value"),
    ({"title": "X", "price": "1"}, [OptionSpec("Size", ["S"]), OptionSpec("size", ["M"])], "same name"),
    ({"title": "X", "price": "1", "weight_grams": "1.5"}, [], "whole number"),
])
def test_bad_products_are_refused_and_nothing_is_written(app, make_store, data, options, message):
    with as_store(app, make_store()):
        with pytest.raises(CatalogError, match=message):
            catalog.create_product(data, options=options, actor=ACTOR)
        db.session.rollback()
        assert _count(Product) == 0 and _count(Variant) == 0


def test_variants_may_share_a_sku_and_their_sharers_are_named(app, make_store):
    """As in Shopify, a SKU may be on several variants (within a product, or
    across products); sku_sharers names the other products for the editor."""
    with as_store(app, make_store()):
        cap = catalog.create_product({"title": "Cap", "price": "10", "sku": "CAP-1"}, actor=ACTOR)
        other = catalog.create_product({"title": "Other cap", "price": "10", "sku": "CAP-1"}, actor=ACTOR)
        hat = catalog.create_product({"title": "Hat", "price": "10"}, options=[OptionSpec("Size", ["S", "M"])],
                                     actor=ACTOR)
        for variant in list(hat.variants):
            catalog.update_variant(hat, variant.id, {"price": "10", "sku": "HAT"}, actor=ACTOR)
        assert _count(Variant) == 4
        assert catalog.sku_sharers(cap.variants) == {cap.variants[0].id: ["Other cap"]}
        assert catalog.sku_sharers(other.variants) == {other.variants[0].id: ["Cap"]}
        assert catalog.sku_sharers(hat.variants) == {v.id: ["Hat"] for v in hat.variants}


def test_weight_unit_taxable_and_cost_are_kept_until_given(app, make_store):
    with as_store(app, make_store()):
        product = catalog.create_product({"title": "Kettle", "price": "30"}, actor=ACTOR)
        variant = product.variants[0]
        assert (variant.weight_unit, variant.taxable, variant.cost) == ("g", True, None)
        catalog.update_variant(product, variant.id, {"price": "30", "weight_unit": "LB", "taxable": "false",
                                                     "cost": "12.40"}, actor=ACTOR)
        catalog.update_variant(product, variant.id, {"price": "31"}, actor=ACTOR)  # a form without them
        assert (variant.price, variant.weight_unit, variant.taxable, variant.cost) == (3100, "lb", False, 1240)
        with pytest.raises(CatalogError, match="weight unit must be one of g, kg, lb, oz"):
            catalog.update_variant(product, variant.id, {"price": "31", "weight_unit": "stone"}, actor=ACTOR)
        with pytest.raises(CatalogError, match="not an amount"):
            catalog.update_variant(product, variant.id, {"price": "31", "cost": "cheap"}, actor=ACTOR)
        db.session.rollback()
        assert db.session.scalar(sa.select(Variant.weight_unit)) == "lb"


def test_handles_are_generated_unique_and_explicit_clashes_refused(app, make_store):
    with as_store(app, make_store()):
        handles = [catalog.create_product({"title": "Wool Hat", "price": "5"}, actor=ACTOR).handle for _ in range(3)]
        assert handles == ["wool-hat", "wool-hat-2", "wool-hat-3"]
        with pytest.raises(CatalogError, match="already uses the handle"):
            catalog.create_product({"title": "Another", "price": "5", "handle": "wool-hat"}, actor=ACTOR)


def test_description_is_sanitized(app, make_store):
    with as_store(app, make_store()):
        product = catalog.create_product({
            "title": "Risky", "price": "1",
            "description_html": '<p>Soft <b>wool</b><script>steal()</script><img src="x.png" onerror="steal()">'
                                '<a href="javascript:steal()">click</a></p>'}, actor=ACTOR)
        html = catalog.get_product(product.id).description_html
        assert "<b>wool</b>" in html and '<img src="x.png">' in html
        assert "script" not in html and "onerror" not in html and "javascript:" not in html


def test_bulk_publish_archive_tag_and_delete(app, make_store):
    with as_store(app, make_store()):
        ids = [catalog.create_product({"title": f"P{i}", "price": "1"}, actor=ACTOR).id for i in range(4)]
        assert catalog.bulk_update(ids[:2], "publish", actor=ACTOR) == 2
        assert catalog.bulk_update(ids, "tag", tag="Sale", actor=ACTOR) == 4
        assert catalog.bulk_update(ids, "tag", tag="sale", actor=ACTOR) == 4  # no duplicate tag
        assert catalog.bulk_update(ids[3:], "delete", actor=ACTOR) == 1
        rows = {p.id: p for p in db.session.scalars(sa.select(Product))}
        assert [rows[i].status for i in ids[:3]] == ["active", "active", "draft"]
        assert all(rows[i].tags == ["Sale"] for i in ids[:3]) and ids[3] not in rows
        with pytest.raises(CatalogError, match="Choose what to do"):
            catalog.bulk_update(ids[:1], "explode", actor=ACTOR)
