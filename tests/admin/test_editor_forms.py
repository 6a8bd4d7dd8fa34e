"""The product editor's forms as a browser posts them: checkboxes, stock reasons, generated SKUs."""
import re

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.catalog.models import Variant
from app.inventory.models import InventoryAdjustment, Location
from app.extensions import db
from tests.admin.test_catalog_dashboard import _new_product, _product_id
from tests.conftest import as_store


def _variant_ids(app, store, product_id):
    with as_store(app, store):
        return list(db.session.scalars(sa.select(Variant.id).where(Variant.product_id == product_id)
                                       .order_by(Variant.position)))


def _tracking(app, store, variant_id):
    with as_store(app, store):
        return db.session.scalar(sa.select(Variant.track_inventory).where(Variant.id == variant_id))


def _post_row(browser, path, variant_id, pairs):
    """A variant row posted field by field, repeats included, as the browser sends it."""
    return browser.flask.post(f"{path}/variants/{variant_id}", headers={"Host": "localhost"},
                              data=MultiDict([("csrf_token", browser.csrf_token(path)), *pairs]))


def test_a_ticked_track_box_keeps_tracking_on_whatever_else_is_posted(app, client, merchant):
    browser, _, store = merchant
    product_id = _product_id(_new_product(browser, store, title="Trail Runner", handle="trail-runner"))
    first = _variant_ids(app, store, product_id)[0]
    path = f"/dashboard/{store.handle}/products/{product_id}"
    editor = browser.get(path).get_data(as_text=True)
    row = re.search(rf'<form[^>]*id="variant-{first}".*?</form>', editor, re.S).group(0)
    assert 'type="hidden" name="track_inventory"' not in row  # the box alone says it
    # An older page (or any client) posting a hidden "off" before the ticked box: the tick wins.
    saved = _post_row(browser, path, first, [("price", "89.00"), ("track_inventory", "off"),
                                              ("track_inventory", "on")])
    assert saved.status_code == 302
    assert _tracking(app, store, first) is True
    product = client.get("/api/v1/products/trail-runner", host=f"{store.handle}.localhost").get_json()["product"]
    variant = next(v for v in product["variants"] if v["id"] == first)
    assert variant["available"] is False  # tracked, and no stock anywhere


def test_an_unticked_track_box_turns_tracking_off(app, merchant):
    browser, _, store = merchant
    product_id = _product_id(_new_product(browser, store))
    first = _variant_ids(app, store, product_id)[0]
    path = f"/dashboard/{store.handle}/products/{product_id}"
    assert _post_row(browser, path, first, [("price", "89.00")]).status_code == 302
    assert _tracking(app, store, first) is False
    assert _post_row(browser, path, first, [("price", "89.00"), ("track_inventory", "on")]).status_code == 302
    assert _tracking(app, store, first) is True


def test_a_refused_variant_row_shows_what_was_typed_and_changes_nothing(app, merchant):
    browser, _, store = merchant
    product_id = _product_id(_new_product(browser, store))
    first, second = _variant_ids(app, store, product_id)[:2]
    path = f"/dashboard/{store.handle}/products/{product_id}"
    refused = _post_row(browser, path, first, [("price", "ten"), ("sku", "NEW-SKU"), ("weight_grams", "640")])
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    row = re.search(rf'<form[^>]*id="variant-{first}".*?</form>', page, re.S).group(0)
    assert "data-refused" in row and 'value="ten"' in row and 'value="NEW-SKU"' in row and 'value="640"' in row
    assert 'name="track_inventory" value="on" checked' not in row  # unticked as posted
    other = re.search(rf'<form[^>]*id="variant-{second}".*?</form>', page, re.S).group(0)
    assert "data-refused" not in other and 'value="ten"' not in other  # the other rows show what is stored
    assert _tracking(app, store, first) is True  # nothing was saved


def test_the_sku_field_fills_every_generated_variant(app, merchant):
    browser, _, store = merchant
    tee = _product_id(_new_product(browser, store, title="Tee", sku="tee 2026", option_name_1="Color",
                                   option_values_1="Red, Navy blue, Red!", option_name_2="Size", option_values_2="S, XL",
                                   option_name_3="", option_values_3=""))
    mug = _product_id(_new_product(browser, store, title="Mug", sku="Mug/01 a", option_name_1="", option_values_1="",
                                   option_name_2="", option_values_2=""))
    with as_store(app, store):
        skus = {f"{a} / {b}": sku for a, b, sku in db.session.execute(
            sa.select(Variant.option1, Variant.option2, Variant.sku).where(Variant.product_id == tee))}
        single = db.session.scalar(sa.select(Variant.sku).where(Variant.product_id == mug))
    assert skus == {"Red / S": "TEE-2026-RED-S", "Red / XL": "TEE-2026-RED-XL",
                    "Navy blue / S": "TEE-2026-NAVY-BLUE-S", "Navy blue / XL": "TEE-2026-NAVY-BLUE-XL",
                    "Red! / S": "TEE-2026-RED-S-2", "Red! / XL": "TEE-2026-RED-XL-2"}
    assert single == "Mug/01 a"  # one variant: the SKU as typed


def _stock_form(browser, path):
    html = browser.get(path).get_data(as_text=True)
    return re.search(r'<form[^>]*class="adjust".*?</form>', html, re.S).group(0)


def test_a_stock_change_without_a_reason_gets_the_usual_one(app, merchant):
    browser, _, store = merchant
    locations = f"/dashboard/{store.handle}/locations"
    assert browser.post(locations, {"name": "Depot"}, csrf_from=locations).status_code == 302
    product_id = _product_id(_new_product(browser, store))
    variant_id = _variant_ids(app, store, product_id)[0]
    path = f"/dashboard/{store.handle}/products/{product_id}"
    with as_store(app, store):
        depot = db.session.scalar(sa.select(Location.id))
    form = _stock_form(browser, path)
    reason = re.search(r'<select name="reason".*?</select>', form, re.S).group(0)
    assert re.search(r'<option value="" selected>Usual: Correction \(count\) for a count, Received for stock in',
                     reason)
    assert len(re.findall(r"\bselected\b", reason)) == 1
    cell = {"variant_id": str(variant_id), "location_id": str(depot), "reason": ""}
    assert browser.post(f"{path}/stock", {**cell, "mode": "set", "quantity": "7"}, csrf_from=path).status_code == 302
    assert browser.post(f"{path}/stock", {**cell, "mode": "adjust", "delta": "+5"}, csrf_from=path).status_code == 302
    assert browser.post(f"{path}/stock", {**cell, "mode": "adjust", "delta": "-2"}, csrf_from=path).status_code == 302
    chosen = {**cell, "mode": "set", "quantity": "4", "reason": "damaged"}
    assert browser.post(f"{path}/stock", chosen, csrf_from=path).status_code == 302
    with as_store(app, store):
        log = db.session.execute(sa.select(InventoryAdjustment.delta, InventoryAdjustment.reason)
                                 .order_by(InventoryAdjustment.id)).all()
    assert [tuple(row) for row in log] == [(7, "correction"), (5, "received"), (-2, "correction"), (-6, "damaged")]
