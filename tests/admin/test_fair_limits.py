"""Fair limits through the dashboard's forms: a clear 4xx that changes nothing,
never a 5xx; and the product editor in pages of variant rows."""
import re

import pytest
import sqlalchemy as sa

from app.catalog import products as catalog
from app.catalog.models import Collection, CollectionProduct, Product, ProductImage, ProductOption, Variant
from app.catalog.products import OptionSpec
from app.extensions import db
from app.inventory.models import InventoryAdjustment, Location
from tests.admin.test_catalog_dashboard import _count, _new_product, _product_id
from tests.catalog.helpers import png_bytes
from tests.conftest import as_store

HTMX = {"Host": "localhost", "HX-Request": "true"}


def _values(prefix: str, count: int) -> str:
    return ", ".join(f"{prefix}{n}" for n in range(count))


def _variant_ids(app, store, product_id: int) -> list[int]:
    with as_store(app, store):
        return list(db.session.scalars(sa.select(Variant.id).where(Variant.product_id == product_id)
                                       .order_by(Variant.position)))


def test_a_new_product_of_36000_variants_is_refused_and_nothing_is_written(app, merchant):
    browser, _, store = merchant
    response = _new_product(browser, store, option_values_1=_values("S", 40), option_values_2=_values("C", 30),
                            option_name_3="Fit", option_values_3=_values("F", 30))
    assert response.status_code == 422
    assert "These options make 36,000 variants (40 Size × 30 Color × 30 Fit); a product can have at most 2,048." \
        in response.get_data(as_text=True)
    assert _count(app, store, Product) == 0 and _count(app, store, Variant) == 0


@pytest.mark.parametrize("fields, status, message", [
    ({"option_values_1": _values("S", 64), "option_values_2": _values("C", 33)}, 422, "make 2,112 variants"),
    ({"option_values_1": _values("S", 2049), "option_name_2": "", "option_values_2": ""}, 422,
     "at most 2,048 values; “Size” has 2,049"),
    ({"option_values_1": "S," * 25_001}, 422, "The values of option 1 can be at most 50000 characters"),
    ({"option_name_1": "x" * 256}, 422, "The name of option 1 can be at most 255 characters"),
    ({"page": "²"}, 400, "The page must be a whole number"),  # the page the form was on: only a link carries it
])
def test_options_past_the_limits_are_refused_and_change_nothing(app, merchant, fields, status, message):
    browser, _, store = merchant
    product_id = _product_id(_new_product(browser, store))
    before = _variant_ids(app, store, product_id)
    path = f"/dashboard/{store.handle}/products/{product_id}"
    form = {"option_name_1": "Size", "option_values_1": "40, 41", "option_name_2": "Color",
            "option_values_2": "Red, Blue", "confirm": "yes", **fields}
    for headers in ({"Host": "localhost"}, HTMX):  # a plain form post, and htmx's
        answer = browser.flask.post(f"{path}/options", data={**form, "csrf_token": browser.csrf_token(path)},
                                    headers=headers)
        assert answer.status_code == status and message in answer.get_data(as_text=True)
        assert _variant_ids(app, store, product_id) == before
    with as_store(app, store):
        options = db.session.execute(sa.select(ProductOption.name, ProductOption.values)
                                     .order_by(ProductOption.position)).all()
    assert [tuple(o) for o in options] == [("Size", ["40", "41"]), ("Color", ["Red", "Blue"])]


@pytest.mark.parametrize("field, value, message", [
    ("weight_grams", "²", "Weight (grams) must be a whole number."),
    ("weight_grams", "2147483648", "Weight (grams) must be between 0 and 1,000,000,000."),
    ("low_stock_threshold", "99999999999999999999", "The low-stock threshold must be between 0 and 1,000,000,000."),
    ("image_id", "¹", "Pick one of this product&#39;s images."),
])
def test_a_variant_row_with_a_number_out_of_range_is_a_422(app, merchant, field, value, message):
    browser, _, store = merchant
    product_id = _product_id(_new_product(browser, store, weight_grams="300"))
    variant_id = _variant_ids(app, store, product_id)[0]
    path = f"/dashboard/{store.handle}/products/{product_id}"
    answer = browser.post(f"{path}/variants/{variant_id}", {"price": "95.00", field: value}, csrf_from=path)
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    with as_store(app, store):
        variant = db.session.execute(sa.select(Variant.price, Variant.weight_grams).where(Variant.id == variant_id)).one()
    assert tuple(variant) == (8900, 300)


def test_image_positions_and_stock_choices_are_parsed_at_the_edge(app, merchant):
    browser, _, store = merchant
    product_id = _product_id(_new_product(browser, store))
    path = f"/dashboard/{store.handle}/products/{product_id}"
    assert browser.upload(f"{path}/images", {"alt": "Front"}, {"image": (png_bytes(), "a.png")},
                          csrf_from=path).status_code == 302
    assert browser.post(f"/dashboard/{store.handle}/locations", {"name": "Depot"},
                        csrf_from=f"/dashboard/{store.handle}/locations").status_code == 302
    with as_store(app, store):
        image_id = db.session.scalar(sa.select(ProductImage.id))
        location_id = db.session.scalar(sa.select(Location.id))
    variant_id = _variant_ids(app, store, product_id)[0]
    for position, message in (("²", "The position must be a whole number."),
                              ("251", "The position must be between 1 and 250.")):
        answer = browser.post(f"{path}/images/{image_id}", {"alt": "Changed", "position": position}, csrf_from=path)
        assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    for variant, location, message in ((str(variant_id), "²", "The location is not one of the choices"),
                                       ("9" * 25, str(location_id), "The variant is not one of the choices"),
                                       (str(variant_id), str(location_id), "The change must be a whole number")):
        answer = browser.post(f"{path}/stock", {"variant_id": variant, "location_id": location, "mode": "adjust",
                                                "delta": "³", "reason": "received"}, csrf_from=path)
        assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    with as_store(app, store):
        assert db.session.scalar(sa.select(ProductImage.alt)) == "Front"
        assert db.session.scalar(sa.select(sa.func.count(InventoryAdjustment.id))) == 0


def test_a_store_past_its_cap_of_locations_gets_a_409(app, merchant):
    browser, _, store = merchant
    with as_store(app, store):
        db.session.execute(sa.insert(Location), [{"name": f"Depot {n}", "active": False} for n in range(199)])
        db.session.commit()
    page = f"/dashboard/{store.handle}/locations"
    assert browser.post(page, {"name": "Flagship"}, csrf_from=page).status_code == 302
    refused = browser.post(page, {"name": "Pop-up"}, csrf_from=page)
    assert refused.status_code == 409
    assert "This store has 200 locations, the most it can have." in refused.get_data(as_text=True)
    assert _count(app, store, Location) == 200


def test_a_store_past_its_cap_of_collections_gets_a_409(app, merchant):
    browser, _, store = merchant
    with as_store(app, store):
        db.session.execute(sa.insert(Collection), [{"handle": f"c-{n}", "title": f"C {n}", "kind": "manual",
                                                    "rules": []} for n in range(4999)])
        db.session.commit()
    new = f"/dashboard/{store.handle}/collections/new"
    assert browser.post(new, {"title": "Last", "kind": "manual"}, csrf_from=new).status_code == 302
    refused = browser.post(new, {"title": "Sale", "kind": "manual"}, csrf_from=new)
    assert refused.status_code == 409 and "This store has 5,000 collections" in refused.get_data(as_text=True)
    assert _count(app, store, Collection) == 5000
    listing = browser.get(f"/dashboard/{store.handle}/collections?page=100").get_data(as_text=True)
    assert "Page 100 of 100 · 5,000 collections" in listing  # listed 50 a page
    assert len(re.findall(rf'href="/dashboard/{store.handle}/collections/\d+"', listing)) == 50


def test_manual_collection_products_are_parsed_and_capped(app, merchant):
    browser, _, store = merchant
    first = _product_id(_new_product(browser, store, title="Hat", sku="HAT"))
    second = _product_id(_new_product(browser, store, title="Scarf", sku="SCARF"))
    new = f"/dashboard/{store.handle}/collections/new"
    path = browser.post(new, {"title": "Picks", "kind": "manual"}, csrf_from=new).headers["Location"]

    def post(data):
        return browser.flask.post(f"{path}/products", data={"csrf_token": browser.csrf_token(path), **data},
                                  headers={"Host": "localhost"})

    assert post({"product_ids": [str(second)]}).status_code == 302
    assert post({"add": str(first)}).status_code == 302  # added at the end, the rest kept
    for data, message in (({"product_ids": [str(first), "²"]}, "A product is not one of the choices"),
                          ({"add": "0"}, "The product to add is not one of the choices"),
                          ({"product_ids": [str(n) for n in range(1, 1002)]},
                           "A manual collection can have at most 1,000 products; this would make it 1,001.")):
        answer = post(data)
        assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    with as_store(app, store):
        assert list(db.session.scalars(sa.select(CollectionProduct.product_id)
                                       .order_by(CollectionProduct.position))) == [second, first]


def test_a_manual_collections_page_lists_every_product_so_saving_its_order_keeps_them(app, merchant):
    browser, _, store = merchant
    with as_store(app, store):
        ids = list(db.session.scalars(sa.insert(Product).returning(Product.id), [
            {"handle": f"p-{n}", "title": f"P {n}", "tags": []} for n in range(300)]))
        db.session.commit()
    new = f"/dashboard/{store.handle}/collections/new"
    path = browser.post(new, {"title": "Everything", "kind": "manual"}, csrf_from=new).headers["Location"]
    browser.flask.post(f"{path}/products", data={"csrf_token": browser.csrf_token(path),
                                                 "product_ids": [str(i) for i in ids]}, headers={"Host": "localhost"})
    order_form = re.search(r'<form[^>]*id="collection-order">(.*?)</form>', browser.get(path).get_data(as_text=True),
                           re.S).group(1)
    assert re.findall(r'name="product_ids" value="(\d+)"', order_form) == [str(i) for i in ids]


def _big_product(app, store, sizes: int = 10, colors: int = 12) -> int:
    with as_store(app, store):
        return catalog.create_product({"title": "Many Socks", "price": "5"}, actor="owner@example.com", options=[
            OptionSpec("Size", [f"S{n}" for n in range(sizes)]),
            OptionSpec("Color", [f"C{n}" for n in range(colors)])]).id


def _rows(html: str) -> list[str]:
    return re.findall(r'<form class="variant-row" role="row" method="post" id="variant-(\d+)"', html)


def test_the_editor_shows_variants_fifty_a_page(app, merchant):
    browser, _, store = merchant
    product_id = _big_product(app, store)
    ids = [str(i) for i in _variant_ids(app, store, product_id)]
    locations = f"/dashboard/{store.handle}/locations"
    browser.post(locations, {"name": "Depot"}, csrf_from=locations)
    path = f"/dashboard/{store.handle}/products/{product_id}"
    first = browser.get(path).get_data(as_text=True)
    assert _rows(first) == ids[:50] and "Variants 1–50 of 120 · page 1 of 3" in first
    assert f'href="{path}?page=2#variants"' in first and f'hx-get="{path}?page=2"' in first
    stock_picker = re.search(r'<select name="variant_id">(.*?)</select>', first).group(1)
    assert re.findall(r'value="(\d+)"', stock_picker) == ids[:50]  # one page of them, as in the stock table
    assert re.findall(r'<td data-variant="(\d+)"', first) == ids[:50]

    last = browser.get(f"{path}?page=3").get_data(as_text=True)
    assert _rows(last) == ids[100:] and "Variants 101–120 of 120 · page 3 of 3" in last
    assert _rows(browser.get(f"{path}?page=99").get_data(as_text=True)) == ids[100:]  # past the end: the last
    assert browser.get(f"{path}?page=0").status_code == 400

    partial = browser.get(f"{path}?page=2", headers={"HX-Request": "true", "HX-Target": "variant-pages"})
    html = partial.get_data(as_text=True)
    assert partial.status_code == 200 and "<html" not in html and html.lstrip().startswith('<div id="variant-pages">')
    assert _rows(html) == ids[50:100] and "Variants 51–100 of 120 · page 2 of 3" in html


def test_saving_a_variant_row_keeps_you_on_its_page(app, merchant):
    browser, _, store = merchant
    product_id = _big_product(app, store)
    ids = _variant_ids(app, store, product_id)
    path = f"/dashboard/{store.handle}/products/{product_id}"
    row = {"price": "7.50", "sku": "SOCK-107", "weight_grams": "40", "track_inventory": "on"}
    saved = browser.post(f"{path}/variants/{ids[107]}", row, csrf_from=path)
    assert saved.status_code == 302 and saved.headers["Location"].endswith(f"{path}?page=3#variants")
    answer = browser.flask.post(f"{path}/variants/{ids[60]}", data={**row, "sku": "SOCK-60",
                                                                    "csrf_token": browser.csrf_token(path)},
                                headers=HTMX)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Variant saved." in html and "<html" not in html
    assert _rows(html) == [str(i) for i in ids[50:100]]
    refused = browser.flask.post(f"{path}/variants/{ids[110]}", data={**row, "sku": "SOCK-110", "price": "lots",
                                                                      "csrf_token": browser.csrf_token(path)},
                                 headers=HTMX)
    assert refused.status_code == 422 and _rows(refused.get_data(as_text=True)) == [str(i) for i in ids[100:]]
    with as_store(app, store):
        skus = dict(db.session.execute(sa.select(Variant.id, Variant.sku).where(Variant.sku.is_not(None))).all())
    assert skus == {ids[107]: "SOCK-107", ids[60]: "SOCK-60"}


def test_stock_and_options_answer_on_the_page_they_were_posted_from(app, merchant):
    browser, _, store = merchant
    product_id = _big_product(app, store)
    ids = _variant_ids(app, store, product_id)
    page = f"/dashboard/{store.handle}/locations"
    browser.post(page, {"name": "Depot"}, csrf_from=page)
    with as_store(app, store):
        location_id = db.session.scalar(sa.select(Location.id))
    path = f"/dashboard/{store.handle}/products/{product_id}"
    stock = {"variant_id": ids[55], "location_id": location_id, "mode": "adjust", "delta": "4",
             "reason": "received", "page": "2"}
    moved = browser.post(f"{path}/stock", stock, csrf_from=path)
    assert moved.status_code == 302 and moved.headers["Location"].endswith(f"{path}?page=2#stock")
    fewer = {"option_name_1": "Size", "option_values_1": "S0, S1, S2", "option_name_2": "Color",
             "option_values_2": ", ".join(f"C{n}" for n in range(12)), "confirm": "yes", "page": "3"}
    answer = browser.flask.post(f"{path}/options", data={**fewer, "csrf_token": browser.csrf_token(path)},
                                headers=HTMX)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Options saved: 0 variant(s) added, 84 removed." in html
    assert html.lstrip().startswith('<div id="variant-pages">')  # grid and stock rows together
    assert _rows(html) == [str(i) for i in ids[:36]]  # page 3 is gone: the last page, now the only one
