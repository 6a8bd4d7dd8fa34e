"""The catalog and inventory pages of the dashboard, through real HTTP forms."""
import re

import pytest
import sqlalchemy as sa

from app.catalog.models import Collection, Product, ProductImage, Variant
from app.extensions import db
from app.inventory.models import InventoryAdjustment, InventoryLevel, Location
from tests.catalog.helpers import png_bytes
from tests.conftest import Client, as_store
from tests.platform.helpers import add_staff


def _count(app, store, model, *where):
    with as_store(app, store):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def _new_product(browser, store, **fields):
    data = {"title": "Trail Runner", "price": "89.00", "sku": "TR-1", "status": "active", "vendor": "Peak",
            "product_type": "Shoes", "tags": "running, trail", "option_name_1": "Size", "option_values_1": "40, 41",
            "option_name_2": "Color", "option_values_2": "Red, Blue", **fields}
    return browser.post(f"/dashboard/{store.handle}/products/new", data, csrf_from=f"/dashboard/{store.handle}/products/new")


def _product_id(response) -> int:
    return int(re.search(r"/products/(\d+)$", response.headers["Location"]).group(1))


def test_create_a_product_with_options_and_see_it_in_the_list(app, merchant):
    browser, _, store = merchant
    created = _new_product(browser, store)
    assert created.status_code == 302
    product_id = _product_id(created)
    editor = browser.get(f"/dashboard/{store.handle}/products/{product_id}").get_data(as_text=True)
    for title in ("40 / Red", "40 / Blue", "41 / Red", "41 / Blue"):
        assert title in editor
    listing = browser.get(f"/dashboard/{store.handle}/products?q=trail").get_data(as_text=True)
    assert "Trail Runner" in listing and "4 variants" in listing
    partial = browser.get(f"/dashboard/{store.handle}/products?q=TR-1",
                          headers={"HX-Request": "true", "HX-Target": "product-results"}).get_data(as_text=True)
    assert partial.startswith('\n<section id="product-results"') or partial.lstrip().startswith("<section")
    assert "Trail Runner" in partial and "<html" not in partial
    assert "Trail Runner" not in browser.get(f"/dashboard/{store.handle}/products?q=nothing-like-it").get_data(as_text=True)


@pytest.mark.parametrize("fields, message", [
    ({"title": ""}, "Give the product a title"),
    ({"price": "-3"}, "not an amount"),
    ({"price": "3.999"}, "more precision"),
    ({"option_name_4": "Fourth", "option_values_4": "x", "option_name_3": "Third", "option_values_3": "y"},
     "at most 3 options"),
])
def test_bad_product_forms_are_refused_and_change_nothing(app, merchant, fields, message):
    browser, _, store = merchant
    response = _new_product(browser, store, **fields)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _count(app, store, Product) == 0


def test_a_sku_shared_with_another_product_is_saved_with_a_warning_naming_it(app, merchant):
    """Shopify lets variants share a SKU, so the editor saves it, and says
    beside the SKU which other product has it too."""
    browser, _, store = merchant
    first = _product_id(_new_product(browser, store))
    second = _product_id(_new_product(browser, store, title="Road Runner", sku="RR-1"))
    with as_store(app, store):
        variant_id = db.session.scalar(sa.select(Variant.id).where(Variant.product_id == second).limit(1))
        db.session.execute(sa.update(Variant).where(Variant.id == variant_id).values(taxable=False, cost=4100,
                                                                                      weight_unit="kg"))
        db.session.commit()
    path = f"/dashboard/{store.handle}/products/{second}"
    response = browser.post(f"{path}/variants/{variant_id}", {"price": "10", "sku": "TR-1-40-RED"}, csrf_from=path)
    assert response.status_code == 302  # saved, back to the editor
    assert _count(app, store, Variant, Variant.sku == "TR-1-40-RED") == 2
    with as_store(app, store):  # fields the row does not show are left as they were
        saved = db.session.get(Variant, (store.id, variant_id))
        assert (saved.taxable, saved.cost, saved.weight_unit) == (False, 4100, "kg")
    assert "Also the SKU of “Trail Runner”" in browser.get(path).get_data(as_text=True)
    other = browser.get(f"/dashboard/{store.handle}/products/{first}").get_data(as_text=True)
    assert other.count("Also the SKU of “Road Runner”") == 1  # only on the variant that shares it


def test_the_variant_row_edits_the_unit_a_weight_is_shown_in(app, merchant):
    browser, _, store = merchant
    product_id = _product_id(_new_product(browser, store))
    with as_store(app, store):
        variant_id = db.session.scalar(sa.select(Variant.id).where(Variant.product_id == product_id).limit(1))
    path = f"/dashboard/{store.handle}/products/{product_id}"
    assert '<option value="g" selected>g</option>' in browser.get(path).get_data(as_text=True)
    row = {"price": "89.00", "sku": "TR-1", "weight_grams": "340", "weight_unit": "oz"}
    assert browser.post(f"{path}/variants/{variant_id}", row, csrf_from=path).status_code == 302
    refused = browser.post(f"{path}/variants/{variant_id}", {**row, "weight_unit": "stone"}, csrf_from=path)
    assert refused.status_code == 422 and "weight unit must be one of g, kg, lb, oz" in refused.get_data(as_text=True)
    with as_store(app, store):
        saved = db.session.get(Variant, (store.id, variant_id))
        assert (saved.weight_grams, saved.weight_unit) == (340, "oz")


def test_removing_an_option_value_asks_before_deleting_variants(app, merchant):
    browser, _, store = merchant
    product_id = _product_id(_new_product(browser, store))
    path = f"/dashboard/{store.handle}/products/{product_id}"
    fewer = {"option_name_1": "Size", "option_values_1": "40", "option_name_2": "Color", "option_values_2": "Red, Blue"}
    asked = browser.flask.post(f"{path}/options", data={**fewer, "csrf_token": browser.csrf_token(path)},
                               headers={"Host": "localhost", "HX-Request": "true"})
    page = asked.get_data(as_text=True)
    assert asked.status_code == 409 and "deletes 2 variants" in page and 'name="confirm"' in page
    assert _count(app, store, Variant, Variant.product_id == product_id) == 4
    done = browser.post(f"{path}/options", {**fewer, "confirm": "yes"}, csrf_from=path)
    assert done.status_code == 302
    assert _count(app, store, Variant, Variant.product_id == product_id) == 2


def test_image_upload_checks_the_content(app, merchant):
    browser, _, store = merchant
    product_id = _product_id(_new_product(browser, store))
    path = f"/dashboard/{store.handle}/products/{product_id}"

    def upload(data: bytes, name: str):
        return browser.upload(f"{path}/images", {"alt": "Side view"}, {"image": (data, name)}, csrf_from=path)

    fake = upload(b"GIF89a but really text" * 10, "photo.png")
    assert fake.status_code == 422 and "not an image we can use" in fake.get_data(as_text=True)
    huge = upload(b"\x89PNG" + b"0" * (10 * 1024 * 1024 + 1), "big.png")
    assert huge.status_code == 422 and "the limit is 10 MB" in huge.get_data(as_text=True)
    assert _count(app, store, ProductImage) == 0

    ok = upload(png_bytes(), "anything.txt")
    assert ok.status_code == 302
    with as_store(app, store):
        image = db.session.execute(sa.select(ProductImage.content_type, ProductImage.width, ProductImage.height,
                                             ProductImage.alt, ProductImage.storage_key)).one()
    assert tuple(image[:4]) == ("image/png", 32, 24, "Side view")
    with browser.get(f"/media/{image.storage_key}") as served:
        assert served.status_code == 200 and served.data == png_bytes()
        assert "immutable" in served.headers["Cache-Control"] and "max-age=31536000" in served.headers["Cache-Control"]
    with browser.get(f"/media/{image.storage_key.rsplit('.', 1)[0]}_160.webp") as thumb:
        assert thumb.status_code == 200 and thumb.data[:4] == b"RIFF"


def test_stock_at_two_locations_with_history_and_the_reserved_floor(app, merchant):
    browser, account, store = merchant
    for name in ("Warehouse", "Shop"):
        assert browser.post(f"/dashboard/{store.handle}/locations", {"name": name},
                            csrf_from=f"/dashboard/{store.handle}/locations").status_code == 302
    duplicate = browser.post(f"/dashboard/{store.handle}/locations", {"name": "warehouse"},
                             csrf_from=f"/dashboard/{store.handle}/locations")
    assert duplicate.status_code == 422 and "already a location" in duplicate.get_data(as_text=True)
    product_id = _product_id(_new_product(browser, store))
    with as_store(app, store):
        variant_id = db.session.scalar(sa.select(Variant.id).where(Variant.product_id == product_id).limit(1))
        warehouse, shop = db.session.scalars(sa.select(Location.id).order_by(Location.id)).all()
    path = f"/dashboard/{store.handle}/products/{product_id}"
    for location, delta in ((warehouse, "12"), (shop, "+3"), (warehouse, "-2")):
        response = browser.post(f"{path}/stock", {"variant_id": variant_id, "location_id": location, "mode": "adjust",
                                                  "delta": delta, "reason": "received"}, csrf_from=path)
        assert response.status_code == 302
    with as_store(app, store):  # an order holds 4 units at the warehouse
        db.session.execute(sa.update(InventoryLevel).where(InventoryLevel.location_id == warehouse)
                           .values(reserved=4))
    refused = browser.post(f"{path}/stock", {"variant_id": variant_id, "location_id": warehouse, "mode": "set",
                                             "quantity": "3", "reason": "correction"}, csrf_from=path)
    assert refused.status_code == 409 and "cannot go below 4" in refused.get_data(as_text=True)
    bad = browser.post(f"{path}/stock", {"variant_id": variant_id, "location_id": warehouse, "mode": "adjust",
                                         "delta": "1.5", "reason": "received"}, csrf_from=path)
    assert bad.status_code == 422
    with as_store(app, store):
        levels = dict(db.session.execute(sa.select(InventoryLevel.location_id, InventoryLevel.on_hand)).all())
        history = db.session.execute(sa.select(InventoryAdjustment.delta, InventoryAdjustment.actor)
                                     .order_by(InventoryAdjustment.id)).all()
    assert levels == {warehouse: 10, shop: 3}
    assert [d for d, _ in history] == [12, 3, -2] and {a for _, a in history} == {account.email}
    page = browser.get(path).get_data(as_text=True)
    assert "Warehouse" in page and "Shop" in page and "+12 → 12" in page


def test_bulk_actions_from_the_list(app, merchant):
    browser, _, store = merchant
    ids = [_product_id(_new_product(browser, store, title=f"Item {i}", sku=f"I-{i}", status="draft")) for i in range(3)]
    listing = f"/dashboard/{store.handle}/products"
    response = browser.flask.post(f"{listing}/bulk", headers={"Host": "localhost"}, data={
        "csrf_token": browser.csrf_token(listing), "ids": [str(i) for i in ids[:2]], "action": "publish"})
    assert response.status_code == 302
    assert _count(app, store, Product, Product.status == "active") == 2
    browser.flask.post(f"{listing}/bulk", headers={"Host": "localhost"}, data={
        "csrf_token": browser.csrf_token(listing), "ids": [str(ids[2])], "action": "delete", "confirmed": "yes"})
    assert _count(app, store, Product) == 2
    draft_only = browser.get(f"{listing}?status=draft").get_data(as_text=True)
    assert "Item 0" not in draft_only


def test_collections_manual_and_automated(app, merchant):
    browser, _, store = merchant
    a = _product_id(_new_product(browser, store, title="Summer Hat", sku="H1", tags="summer", price="20"))
    b = _product_id(_new_product(browser, store, title="Winter Coat", sku="C1", tags="winter", price="200"))
    new = f"/dashboard/{store.handle}/collections/new"
    auto = browser.flask.post(new, headers={"Host": "localhost"}, data={
        "csrf_token": browser.csrf_token(new), "title": "Under 50", "kind": "automated", "match": "all",
        "rule_field": ["price"], "rule_relation": ["less_than"], "rule_value": ["50"]})
    assert auto.status_code == 302
    page = browser.get(auto.headers["Location"]).get_data(as_text=True)
    assert "Summer Hat" in page and "Winter Coat" not in page
    manual = browser.post(new, {"title": "Editors' picks", "kind": "manual"}, csrf_from=new)
    collection_path = manual.headers["Location"]
    collection_id = collection_path.rsplit("/", 1)[1]
    browser.flask.post(f"{collection_path}/products", headers={"Host": "localhost"}, data={
        "csrf_token": browser.csrf_token(collection_path), "product_ids": [str(b), str(a)]})
    page = browser.get(collection_path).get_data(as_text=True)
    assert page.index("Winter Coat") < page.index("Summer Hat")
    refused = browser.post(new, {"title": "No rules", "kind": "automated"}, csrf_from=new)
    assert refused.status_code == 422 and "at least one condition" in refused.get_data(as_text=True)
    assert _count(app, store, Collection) == 2 and collection_id.isdigit()


def test_staff_manage_catalog_but_not_settings(app, merchant, make_account):
    browser, _, store = merchant
    helper = make_account()
    staff = add_staff(app, browser, store, helper)  # invited, and accepted as the helper
    assert _new_product(staff, store, title="Staff made").status_code == 302
    for page in ("products", "collections", "inventory", "locations", "products/imports"):
        assert staff.get(f"/dashboard/{store.handle}/{page}").status_code == 200, page
    assert staff.get(f"/dashboard/{store.handle}/settings").status_code == 403


def test_another_merchants_product_is_a_404(app, merchant, make_account, make_store):
    browser, _, store = merchant
    other_account = make_account()
    other_store = make_store(owner=other_account)
    other = Client(app.test_client())
    other.login(other_account.email)
    product_id = _product_id(_new_product(other, other_store))
    assert browser.get(f"/dashboard/{store.handle}/products/{product_id}").status_code == 404
    assert browser.get(f"/dashboard/{other_store.handle}/products/{product_id}").status_code == 404
    response = browser.post(f"/dashboard/{store.handle}/products/{product_id}", {"title": "Mine now"},
                            csrf_from=f"/dashboard/{store.handle}/products")
    assert response.status_code == 404
    with as_store(app, other_store):
        assert db.session.scalar(sa.select(Product.title)) == "Trail Runner"


def test_import_a_csv_from_the_dashboard_with_live_progress_and_a_report(app, merchant, service_env):
    from tests.conftest import flask_cli

    browser, _, store = merchant
    page = f"/dashboard/{store.handle}/products/imports"
    csv = ("Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Price\n"
           "camp-mug,Camp Mug,Color,Blue,MUG-B,12.00\n"
           "camp-mug,,Color,Green,MUG-G,12.00\n"
           "broken,Broken,,,BRK-1,twelve\n")
    refused = browser.upload(page, {}, {"file": (csv.encode("utf-16"), "products.csv")})
    assert refused.status_code == 422 and "UTF-8" in refused.get_data(as_text=True)

    started = browser.upload(page, {}, {"file": (csv.encode(), "products.csv")})
    assert started.status_code == 302
    job_page = started.headers["Location"]
    polled = {"HX-Request": "true", "HX-Target": "import-progress"}  # the progress card's own poll
    queued = browser.get(job_page, headers=polled).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in queued and "<html" not in queued

    flask_cli(service_env, "worker", "--burst", "--queue", "imports")
    done = browser.get(job_page, headers=polled).get_data(as_text=True)
    assert "every 1s" not in done  # the bar stops polling once the job is finished
    assert "<dt>Created</dt><dd>1</dd>" in done and "<dt>Refused</dt><dd>1</dd>" in done
    assert re.search(r"<td>[^<]*twelve[^<]*</td>\s*<td>4</td>\s*<td>broken</td>", done)
    assert "products.csv" in browser.get(page).get_data(as_text=True)

    with browser.get(f"/dashboard/{store.handle}/products/export.csv") as exported:
        text = exported.get_data(as_text=True)
    assert exported.headers["Content-Type"].startswith("text/csv")
    assert text.startswith("Handle,Title,") and "MUG-G" in text and "BRK-1" not in text
