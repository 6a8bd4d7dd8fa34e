"""Fair limits in the catalog: variants per product, values per option, numbers
within their columns, collections per store and products per manual collection."""
import re

import pytest
import sqlalchemy as sa

from app.catalog import collections
from app.catalog import products as catalog
from app.catalog.errors import CatalogError
from app.catalog.models import Collection, CollectionProduct, Product, ProductOption, Variant
from app.catalog.products import MAX_VARIANTS, OptionSpec
from app.extensions import db
from tests.conftest import as_store

ACTOR = "merchant@example.com"


def _count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _values(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{n}" for n in range(count)]


def test_a_product_at_the_variant_cap_is_made_and_options_past_it_are_refused(app, make_store):
    with as_store(app, make_store()):
        product = catalog.create_product({"title": "Everything Tee", "price": "20"},
                                         options=[OptionSpec("Size", _values("S", 32)),
                                                  OptionSpec("Color", _values("C", 64))], actor=ACTOR)
        assert len(product.variants) == MAX_VARIANTS == 2048
        with pytest.raises(CatalogError, match=r"These options make 2,112 variants \(33 Size × 64 Color\); "
                                               r"a product can have at most 2,048\.") as refused:
            catalog.set_options(product, [OptionSpec("Size", _values("S", 33)), OptionSpec("Color", _values("C", 64))],
                                confirm=True, actor=ACTOR)
        assert refused.value.status == 422
        db.session.rollback()
        assert _count(Variant) == 2048
        assert [len(o.values) for o in db.session.scalars(sa.select(ProductOption).order_by(ProductOption.position))] \
            == [32, 64]


def test_new_products_past_the_variant_cap_are_refused_and_nothing_is_written(app, make_store):
    with as_store(app, make_store()):
        with pytest.raises(CatalogError, match=r"These options make 36,000 variants \(40 Size × 30 Color × 30 Fit\)"):
            catalog.create_product({"title": "Too many", "price": "1"}, options=[
                OptionSpec("Size", _values("S", 40)), OptionSpec("Color", _values("C", 30)),
                OptionSpec("Fit", _values("F", 30))], actor=ACTOR)
        db.session.rollback()
        rows = [{"option1": value, "price": "1"} for value in _values("S", 2049)]
        with pytest.raises(CatalogError, match="This product would have 2,049 variants; a product can have at most "
                                               "2,048."):
            catalog.create_product({"title": "Too many"}, options=[OptionSpec("Size", _values("S", 2049))],
                                   variants=rows, actor=ACTOR)
        db.session.rollback()
        assert _count(Product) == 0 and _count(Variant) == 0


def test_an_option_with_more_values_than_the_cap_is_refused(app, make_store):
    with as_store(app, make_store()):
        product = catalog.create_product({"title": "Mug", "price": "9"}, options=[OptionSpec("Size", ["S", "L"])],
                                         actor=ACTOR)
        with pytest.raises(CatalogError, match="An option can have at most 2,048 values; “Size” has 2,049."):
            catalog.set_options(product, [OptionSpec("Size", _values("S", 2049))], confirm=True, actor=ACTOR)
        db.session.rollback()
        assert _count(Variant) == 2


@pytest.mark.parametrize("field, value, message", [
    ("weight_grams", "²", "Weight (grams) must be a whole number"),
    ("weight_grams", "١٢٣", "Weight (grams) must be a whole number"),
    ("weight_grams", "-5", "Weight (grams) must be a whole number"),
    ("weight_grams", "2147483648", "Weight (grams) must be between 0 and 1,000,000,000"),
    ("weight_grams", "9" * 40, "Weight (grams) must be between 0 and 1,000,000,000"),
    ("low_stock_threshold", "1000000001", "The low-stock threshold must be between 0 and 1,000,000,000"),
    ("low_stock_threshold", "³", "The low-stock threshold must be a whole number"),
    ("image_id", "²", "Pick one of this product's images"),
    ("image_id", "9" * 30, "Pick one of this product's images"),
    ("image_id", "0", "Pick one of this product's images"),
])
def test_variant_numbers_outside_their_columns_are_refused_and_nothing_changes(app, make_store, field, value,
                                                                               message):
    with as_store(app, make_store()):
        product = catalog.create_product({"title": "Cap", "price": "10", "weight_grams": "120"}, actor=ACTOR)
        variant_id = product.variants[0].id
        with pytest.raises(CatalogError, match=re.escape(message)) as refused:
            catalog.update_variant(product, variant_id, {"price": "11", field: value}, actor=ACTOR)
        assert refused.value.status == 422 and refused.value.field == field
        db.session.rollback()
        variant = db.session.get(Variant, (product.store_id, variant_id))
        assert (variant.price, variant.weight_grams, variant.low_stock_threshold) == (1000, 120, None)


def test_the_largest_numbers_a_variant_takes_are_kept(app, make_store):
    with as_store(app, make_store()):
        product = catalog.create_product({"title": "Anvil", "price": "10"}, actor=ACTOR)
        catalog.update_variant(product, product.variants[0].id, {"price": "10", "weight_grams": "1000000000",
                                                                 "low_stock_threshold": "1000000000"}, actor=ACTOR)
        variant = db.session.scalar(sa.select(Variant))
        assert (variant.weight_grams, variant.low_stock_threshold) == (1_000_000_000, 1_000_000_000)


def test_collections_per_store_are_capped(app, make_store):
    with as_store(app, make_store()):
        db.session.execute(sa.insert(Collection), [
            {"handle": f"c-{n}", "title": f"C {n}", "kind": "manual", "rules": []}
            for n in range(collections.MAX_COLLECTIONS - 1)])
        db.session.commit()
        collections.create_collection({"title": "The last one"}, kind="manual")
        with pytest.raises(CatalogError, match="This store has 5,000 collections, the most it can have") as refused:
            collections.create_collection({"title": "One too many"}, kind="manual")
        assert refused.value.status == 409
        db.session.rollback()
        assert _count(Collection) == 5000


def test_a_manual_collection_holds_at_most_its_cap_of_products(app, make_store):
    with as_store(app, make_store()):
        ids = list(db.session.scalars(sa.insert(Product).returning(Product.id), [
            {"handle": f"p-{n}", "title": f"P {n}", "tags": []} for n in range(collections.MAX_COLLECTION_PRODUCTS + 1)]))
        db.session.commit()
        picks = collections.create_collection({"title": "Picks"}, kind="manual")
        collections.set_products(picks, ids[:3])
        with pytest.raises(CatalogError, match="A manual collection can have at most 1,000 products; this would "
                                               "make it 1,001."):
            collections.set_products(picks, ids)
        db.session.rollback()
        assert collections.product_ids(picks) == ids[:3]
        collections.set_products(picks, ids[:1000])
        assert _count(CollectionProduct) == 1000
