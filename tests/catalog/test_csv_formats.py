"""Shopify CSV as real exports are: both formats, decimal grams, weight units,
taxable, cost and category kept, shared SKUs imported with a warning, and the
columns Vitrine does not keep counted. Imports run through a real RQ worker."""
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog import csv_format
from app.catalog import products as catalog
from app.catalog.models import Product, Variant
from app.extensions import db
from tests.catalog.test_csv import ACTOR, import_file, rows_of
from tests.conftest import as_store

FIXTURES = Path(__file__).parent / "fixtures"
CLASSIC_IGNORED = {
    "Option1 Linked To": 2, "Google Shopping / Gender": 2, "Google Shopping / Age Group": 1,
    "Google Shopping / Condition": 1, "Google Shopping / Custom Product": 1, "Google Shopping / MPN": 1,
    "Variant Tax Code": 1, "Product rating count (product.metafields.reviews.rating_count)": 1,
    "Price / International": 1, "Included / International": 1,
    "Variant Inventory Policy": 1, "Variant Requires Shipping": 1,  # only cells other than what Vitrine assumes
}
CURRENT_IGNORED = {
    "Option1 linked to": 2, "Price / International": 1, "Tax code": 2, "Unit price total measure": 2,
    "Unit price total measure unit": 2, "Unit price base measure": 2, "Unit price base measure unit": 2,
    "Continue selling when out of stock": 1, "Google Shopping / Gender": 2, "Google Shopping / Condition": 1,
    "Google Shopping / MPN": 1, "Color (product.metafields.shopify.color-pattern)": 1, "Included / International": 1,
}
SHARED_SKU = "SKUs shared by variants can mix up stock counts and orders."


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def fidelity(app, store) -> dict:
    """handle -> the product's kept fields and its variants' (values, sku, grams, unit, taxable, cost, price)."""
    with as_store(app, store):
        products = db.session.scalars(sa.select(Product).order_by(Product.handle)
                                      .options(selectinload(Product.variants))).all()
        return {p.handle: {"title": p.title, "category": p.category, "status": p.status, "vendor": p.vendor,
                           "variants": [(v.option_values, v.sku, v.weight_grams, v.weight_unit, v.taxable, v.cost,
                                         v.price, v.compare_at_price) for v in p.variants]}
                for p in products}


CLASSIC_CATALOG = {
    "canvas-tote": {"title": "Canvas Tote", "category": "Apparel & Accessories > Handbags, Wallets & Cases > Handbags",
                    "status": "active", "vendor": "Harbour Goods", "variants": [
                        (("Natural",), "TOTE-NAT", 227, "lb", True, 640, 2400, 3000),
                        (("Black",), "TOTE-BLK", 227, "lb", True, 640, 2400, None)]},
    "enamel-pin": {"title": "Enamel Pin", "category": "Arts & Entertainment > Hobbies & Creative Arts > Collectibles",
                   "status": "active", "vendor": "Harbour Goods", "variants": [
                       (("Fox",), "PIN-FOX", 28, "oz", True, 90, 800, None),
                       (("Owl",), "SHARED-7", 29, "oz", True, 95, 800, None)]},  # 28.5 g: half up
    "gift-wrap": {"title": "Gift Wrap", "category": "", "status": "active", "vendor": "Harbour Goods", "variants": [
        ((), "SHARED-7", 0, "g", True, None, 300, None)]},  # a blank Variant Taxable is taxed, as in Shopify
    "trail-mix": {"title": "Trail Mix Sack",
                  "category": "Food, Beverages & Tobacco > Food Items > Snack Foods > Trail & Snack Mixes",
                  "status": "draft", "vendor": "Ridge Pantry", "variants": [
                      ((), "MIX-1", 22680, "kg", False, 4125, 8950, None)]},
}
CURRENT_CATALOG = {
    "cold-brew-beans": {"title": "Cold Brew Beans", "category": "Food, Beverages & Tobacco > Beverages > Coffee",
                        "status": "active", "vendor": "Ridge Pantry", "variants": [
                            (("250 g",), "BREW-250", 250, "g", True, 420, 1100, None),
                            (("1 kg",), "BREW-1000", 1001, "kg", False, 1560, 3600, None)]},
    "desk-candle": {"title": "Desk Candle", "category": "Home & Garden > Decor > Home Fragrances > Candles",
                    "status": "draft", "vendor": "Loom & Co", "variants": [
                        ((), "CANDLE-9", 198, "oz", True, 505, 1900, None)]},
    "gift-box": {"title": "Gift Box", "category": "", "status": "active", "vendor": "Loom & Co", "variants": [
        ((), "CANDLE-9", 120, "g", True, None, 400, None)]},  # no URL handle: made from the Title
    "linen-apron": {"title": "Linen Apron", "category": "Apparel & Accessories > Clothing Accessories > Aprons",
                    "status": "active", "vendor": "Loom & Co", "variants": [
                        (("Sand",), "APRON-SAND", 454, "lb", True, 975, 3800, 4500),
                        (("Clay",), "APRON-CLAY", 454, "lb", True, 975, 3800, None)]},
}


@pytest.mark.parametrize("name, expected, ignored, warning", [
    ("shopify_classic.csv", CLASSIC_CATALOG, CLASSIC_IGNORED,
     {"row": 7, "handle": "gift-wrap", "kind": "warning",
      "message": f"The SKU “SHARED-7” is also used by “enamel-pin” (row 6). The import kept both; {SHARED_SKU}"}),
    ("shopify_current.csv", CURRENT_CATALOG, CURRENT_IGNORED,
     {"row": 7, "handle": "gift-box", "kind": "warning",
      "message": f"The SKU “CANDLE-9” is also used by “desk-candle” (row 6). The import kept both; {SHARED_SKU}"}),
])
def test_a_shopify_export_imports_whole_with_every_kept_field(app, make_store, service_env, name, expected, ignored,
                                                               warning):
    store = make_store()
    job = import_file(app, service_env, store, fixture(name))
    assert (job.status, job.created_products, job.failed_products) == ("done", 4, 0)
    assert job.report == [warning]  # the shared SKU is imported, and said once
    assert job.ignored_columns == ignored
    assert fidelity(app, store) == expected


@pytest.mark.parametrize("name, expected, fmt", [
    ("shopify_classic.csv", CLASSIC_CATALOG, "current"),
    ("shopify_current.csv", CURRENT_CATALOG, "classic"),
    ("shopify_classic.csv", CLASSIC_CATALOG, "classic"),
])
def test_an_export_in_either_format_imports_back_to_the_same_catalog(app, make_store, service_env, name, expected,
                                                                      fmt):
    source, target = make_store(), make_store()
    import_file(app, service_env, source, fixture(name))
    with as_store(app, source):
        exported = "".join(csv_format.export_products(format=fmt))
    rows = rows_of(exported)
    columns = csv_format.COLUMNS if fmt == "classic" else csv_format.CURRENT_COLUMNS
    assert tuple(rows[0]) == columns
    back = import_file(app, service_env, target, exported.encode())
    assert (back.status, back.created_products, back.failed_products) == ("done", 4, 0)
    assert [entry["kind"] for entry in back.report] == ["warning"]  # the shared SKU, again
    assert back.ignored_columns == {}  # everything Vitrine writes, it reads back
    assert fidelity(app, target) == expected


def test_the_export_writes_taxable_cost_category_and_weight_unit(app, make_store, service_env):
    store = make_store()
    import_file(app, service_env, store, fixture("shopify_classic.csv"))
    with as_store(app, store):
        classic = rows_of("".join(csv_format.export_products()))
        current = rows_of("".join(csv_format.export_products(format="current")))
        with pytest.raises(ValueError):
            list(csv_format.export_products(format="xlsx"))
    mix = next(row for row in classic if row["Handle"] == "trail-mix")
    assert (mix["Variant Grams"], mix["Variant Weight Unit"], mix["Variant Taxable"], mix["Cost per item"],
            mix["Product Category"]) == ("22680", "kg", "FALSE", "41.25",
                                         "Food, Beverages & Tobacco > Food Items > Snack Foods > Trail & Snack Mixes")
    pin = next(row for row in current if row["URL handle"] == "enamel-pin")
    assert (pin["Title"], pin["Weight value (grams)"], pin["Weight unit for display"], pin["Charge tax"],
            pin["Cost per item"], pin["SKU"], pin["Price"]) == ("Enamel Pin", "28", "oz", "TRUE", "0.90", "PIN-FOX", "8.00")


def test_a_sku_already_in_the_store_is_imported_with_a_warning_naming_its_product(app, make_store, service_env):
    store = make_store()
    with as_store(app, store):
        catalog.create_product({"title": "Straw Hat", "price": "20", "sku": "HAT-1"}, actor=ACTOR)
    job = import_file(app, service_env, store, b"Handle,Title,Variant SKU,Variant Price\ncap,Cap,HAT-1,10\n")
    assert (job.created_products, job.failed_products) == (1, 0)
    assert job.report == [{"row": 2, "handle": "cap", "kind": "warning",
                           "message": f"The SKU “HAT-1” is also used by “Straw Hat” in the store. The import kept "
                                      f"both; {SHARED_SKU}"}]
    again = import_file(app, service_env, store, b"Handle,Title,Variant SKU,Variant Price\ncap,Cap,HAT-1,11\n")
    assert (again.updated_products, again.failed_products) == (1, 0)  # updating it warns again, never refuses
    assert [entry["kind"] for entry in again.report] == ["warning"]


def parse(text: str):
    return csv_format.parse_text(text, "USD")


@pytest.mark.parametrize("cell, grams", [
    ("250", 250), ("250.0", 250), ("226.796185", 227), ("22679.6185", 22680), ("12.5", 13), ("12.49999", 12),
    ("0.4", 0), (".5", 1), ("7.", 7), (" 1000.50 ", 1001),
])
def test_decimal_grams_round_half_up_to_the_gram(cell, grams):
    parsed = parse(f"Handle,Title,Variant Grams,Variant Price\nhat,Hat,{cell},1\n")
    assert parsed.products[0].errors == []
    assert parsed.products[0].variants[0].fields["weight_grams"] == str(grams)


@pytest.mark.parametrize("header, cell, message", [
    ("Variant Grams", "-3", "Variant Grams must be a weight in grams, 0 or more (like 250 or 226.8), not “-3”."),
    ("Variant Grams", "heavy", "Variant Grams must be a weight in grams, 0 or more (like 250 or 226.8), not “heavy”."),
    ("Variant Grams", "1e3", "not “1e3”"),
    ("Variant Grams", '"12,5"', "not “12,5”"),
    ("Variant Grams", "1000000000.5", "Variant Grams is too large"),
    ("Variant Weight Unit", "stone", "Variant Weight Unit must be one of g, kg, lb, oz, not “stone”."),
    ("Variant Taxable", "maybe", "Variant Taxable must be TRUE or FALSE, not “maybe”."),
    ("Cost per item", "cheap", "Cost per item: “cheap” is not an amount"),
])
def test_bad_weights_units_flags_and_costs_refuse_the_product_with_a_clear_message(header, cell, message):
    parsed = parse(f"Handle,Title,{header},Variant Price\nhat,Hat,{cell},1\n")
    [error] = parsed.products[0].errors
    assert (error.row, error.kind) == (2, "refused") and message in error.message


def test_a_row_message_names_the_column_as_the_current_format_does():
    parsed = parse("Title,URL handle,Weight value (grams),Weight unit for display,Price\nHat,hat,-1,g,1\n"
                   "Cap,cap,10,stone,1\n")
    assert [p.errors[0].message.split(" must")[0] for p in parsed.products] == [
        "Weight value (grams)", "Weight unit for display"]


@pytest.mark.parametrize("header, fmt", [
    ("Handle,Title,Variant SKU", "classic"),
    ("Title,URL handle,SKU,Price", "current"),
    ("Title,SKU,Price", "current"),  # a Title without a Handle: the current format, where a handle is optional
    ("title,url handle", "current"),
])
def test_the_format_is_told_from_the_header(header, fmt):
    assert csv_format.read_header(header + "\n").format == fmt
    assert parse(header + "\n").format == fmt


def test_both_formats_parse_into_the_same_products():
    classic = parse("Handle,Title,Body (HTML),Option1 Name,Option1 Value,Variant SKU,Variant Price,Variant Grams,"
                    "Variant Weight Unit,Variant Taxable,Cost per item,Product Category\n"
                    "hat,Hat,<p>Wool</p>,Size,S,H-S,10.00,100.5,oz,FALSE,4.00,Hats\n,,,,M,H-M,11.00,120,oz,TRUE,4.50,\n")
    current = parse("Title,URL handle,Description,Option1 name,Option1 value,SKU,Price,Weight value (grams),"
                    "Weight unit for display,Charge tax,Cost per item,Product category\n"
                    "Hat,hat,<p>Wool</p>,Size,S,H-S,10.00,100.5,oz,FALSE,4.00,Hats\n,hat,,,M,H-M,11.00,120,oz,TRUE,4.50,\n")
    assert current.columns == classic.columns
    for mine, theirs in zip(classic.products, current.products, strict=True):
        assert (mine.handle, mine.fields, mine.option_names, [(v.values, v.fields) for v in mine.variants]) == \
               (theirs.handle, theirs.fields, theirs.option_names, [(v.values, v.fields) for v in theirs.variants])
    assert classic.products[0].fields["category"] == "Hats"
    assert [v.fields["taxable"] for v in classic.products[0].variants] == [False, True]


def test_ignored_columns_count_only_non_blank_cells_unlike_what_vitrine_assumes():
    text = ('Handle,Title,Google Shopping / Gender,Mystery,Gift Card\n'
            'a,A,Female,,FALSE\nb,B,,  ,TRUE\nc,C,Male,x,\n')
    assert csv_format.ignored_columns(text) == {"Google Shopping / Gender": 2, "Mystery": 1, "Gift Card": 1}
    assert csv_format.ignored_columns("Handle,Title\nhat,Hat\n") == {}


def test_the_dashboard_exports_either_format_and_refuses_an_unknown_one(app, merchant):
    browser, _, store = merchant
    with as_store(app, store):
        catalog.create_product({"title": "Cap", "price": "10", "sku": "CAP-1", "cost": "4.5", "taxable": "false",
                                "weight_unit": "oz"}, actor=ACTOR)
    path = f"/dashboard/{store.handle}/products/export.csv"
    page = browser.get(f"/dashboard/{store.handle}/products/imports").get_data(as_text=True)
    assert 'name="format"' in page and 'value="current"' in page
    def download(query: str = "") -> tuple[str, str]:
        response = browser.get(path + query)
        try:
            assert response.status_code == 200
            return response.headers["Content-Disposition"], response.get_data(as_text=True)
        finally:
            response.close()  # the file it was sent from

    for fmt, first in (("classic", "Handle"), ("current", "Title")):
        disposition, text = download(f"?format={fmt}")
        assert f"-products-{fmt}-" in disposition and next(iter(rows_of(text)[0])) == first
    [row] = rows_of(download()[1])  # classic by default
    assert (row["Cost per item"], row["Variant Taxable"], row["Variant Weight Unit"]) == ("4.50", "FALSE", "oz")
    for bad in ("xlsx", "", "CLASSIC"):
        response = browser.get(f"{path}?format={bad}")
        assert response.status_code == 400 and "classic or current" in response.get_data(as_text=True)


def test_the_import_page_lists_the_columns_not_imported(app, merchant, service_env):
    browser, _, store = merchant
    job = import_file(app, service_env, store, fixture("shopify_classic.csv"))
    page = browser.get(f"/dashboard/{store.handle}/products/imports/{job.token}").get_data(as_text=True)
    assert "Columns not imported:" in page
    assert "Google Shopping / Gender (2 values)" in page and "Variant Tax Code (1 value)" in page
    poll = browser.get(f"/dashboard/{store.handle}/products/imports/{job.token}",
                       headers={"HX-Request": "true", "HX-Target": "import-progress"}).get_data(as_text=True)
    assert "Columns not imported" not in poll and '<a href="#import-ignored">' in poll  # the card links to the list


def test_variants_sharing_a_sku_keep_their_rows_when_imported_again(app, make_store, service_env):
    """Rows are matched to variants by SKU; with a shared SKU, by its option
    values too, so no variant is removed and made again (losing its stock
    history) because the file lists them in another order."""
    store = make_store()
    header = b"Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Price\n"
    import_file(app, service_env, store, header + b"pin,Pin,Style,Fox,PIN,8\npin,,,Owl,PIN,9\npin,,,Elk,PIN-E,7\n")
    with as_store(app, store):
        ids = {v.option_values: v.id for v in db.session.scalars(sa.select(Variant))}
    again = import_file(app, service_env, store,
                        header + b"pin,Pin,Style,Owl,PIN,10\npin,,,Fox,PIN,11\npin,,,Elk,PIN-E,7\n")
    assert (again.updated_products, again.failed_products) == (1, 0)
    assert [entry["message"] for entry in again.report] == [
        f"The SKU “PIN” is also used by this product (row 2). The import kept both; {SHARED_SKU}"]
    with as_store(app, store):
        after = {v.option_values: (v.id, v.price) for v in db.session.scalars(sa.select(Variant))}
    assert after == {("Owl",): (ids[("Owl",)], 1000), ("Fox",): (ids[("Fox",)], 1100), ("Elk",): (ids[("Elk",)], 700)}
    prices = import_file(app, service_env, store, b"Handle,Title,Variant SKU,Variant Price\npin,Pin,PIN,12\n"
                                                  b"pin,,PIN,13\npin,,PIN,14\n")
    assert prices.failed_products == 1  # no option columns: each row takes the next variant with the SKU
    assert "No variant of “Pin” has the SKU “PIN” left" in prices.report[-1]["message"]
    prices = import_file(app, service_env, store, b"Handle,Title,Variant SKU,Variant Price\npin,Pin,PIN,12\n"
                                                  b"pin,,PIN,13\n")
    assert (prices.updated_products, prices.failed_products) == (1, 0)
    with as_store(app, store):
        assert sorted(db.session.execute(sa.select(Variant.position, Variant.price)).all()) == [
            (1, 1200), (2, 1300), (3, 700)]
