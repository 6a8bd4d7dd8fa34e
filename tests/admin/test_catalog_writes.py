"""The remaining catalog write paths: what they change, and what bad input does not."""
import re

import sqlalchemy as sa

from app.catalog.models import Collection, ProductImage
from app.extensions import db
from app.inventory.models import InventoryLevel, Location
from app.media.storage import storage
from tests.admin.test_catalog_dashboard import _count, _new_product, _product_id
from tests.catalog.helpers import png_bytes
from tests.conftest import as_store, run_effects


def test_collection_edit_refuses_a_blank_title_and_deletes_on_request(app, merchant):
    browser, _, store = merchant
    new = f"/dashboard/{store.handle}/collections/new"
    path = browser.post(new, {"title": "Favourites", "kind": "manual"}, csrf_from=new).headers["Location"]
    refused = browser.post(path, {"title": "  ", "handle": "favourites"}, csrf_from=path)
    assert refused.status_code == 422 and "title of 1–255" in refused.get_data(as_text=True)
    with as_store(app, store):
        assert db.session.scalar(sa.select(Collection.title)) == "Favourites"
    assert browser.post(path, {"title": "Favourites", "delete": "yes", "confirmed": "yes"},
                        csrf_from=path).status_code == 302
    assert _count(app, store, Collection) == 0


def test_image_alt_order_and_delete(app, merchant):
    browser, _, store = merchant
    product_id = _product_id(_new_product(browser, store))
    path = f"/dashboard/{store.handle}/products/{product_id}"
    for colour in ((10, 20, 30), (200, 100, 0)):
        assert browser.upload(f"{path}/images", {"alt": ""}, {"image": (png_bytes(color=colour), "x.png")},
                              csrf_from=path).status_code == 302
    with as_store(app, store):
        first, second = db.session.execute(sa.select(ProductImage.id, ProductImage.storage_key)
                                           .order_by(ProductImage.position)).all()
    too_long = browser.post(f"{path}/images/{first.id}", {"alt": "x" * 513}, csrf_from=path)
    assert too_long.status_code == 422 and "at most 512" in too_long.get_data(as_text=True)
    assert browser.post(f"{path}/images/{second.id}", {"alt": "Back", "position": "1"}, csrf_from=path).status_code == 302
    with as_store(app, store):
        order = db.session.execute(sa.select(ProductImage.id, ProductImage.alt).order_by(ProductImage.position)).all()
    assert [tuple(row) for row in order] == [(second.id, "Back"), (first.id, "")]
    assert browser.post(f"{path}/images/{first.id}", {"delete": "yes", "confirmed": "yes"},
                        csrf_from=path).status_code == 302
    assert _count(app, store, ProductImage) == 1
    with as_store(app, store):
        assert storage().path(first.storage_key).exists()  # removed after the commit, by a worker
        run_effects("default")
        assert not storage().path(first.storage_key).exists() and storage().path(second.storage_key).exists()


def test_location_rename_clash_and_the_inventory_page(app, merchant):
    browser, _, store = merchant
    page = f"/dashboard/{store.handle}/locations"
    for name in ("Depot", "Kiosk"):
        browser.post(page, {"name": name}, csrf_from=page)
    with as_store(app, store):
        depot, kiosk = db.session.scalars(sa.select(Location.id).order_by(Location.id)).all()
    clash = browser.post(page, {"location_id": str(kiosk), "name": "depot", "active": "on"}, csrf_from=page)
    assert clash.status_code == 422 and "already a location" in clash.get_data(as_text=True)
    assert browser.post(page, {"location_id": str(kiosk), "name": "Kiosk", "address": "Pier 3"},
                        csrf_from=page).status_code == 302  # unticked: inactive
    last = browser.post(page, {"location_id": str(depot), "name": "Depot"}, csrf_from=page)
    assert last.status_code == 422 and "at least one active location" in last.get_data(as_text=True)

    _new_product(browser, store)
    inventory_page = f"/dashboard/{store.handle}/inventory"
    html = browser.get(inventory_page).get_data(as_text=True)
    variant_id = re.search(r'name="variant_id" value="(\d+)"', html).group(1)
    bad = browser.post(inventory_page, {"variant_id": variant_id, "location_id": str(depot), "quantity": "-4"},
                       csrf_from=inventory_page)
    assert bad.status_code == 422
    good = browser.post(inventory_page, {"variant_id": variant_id, "location_id": str(depot), "quantity": "6"},
                        csrf_from=inventory_page)
    assert good.status_code == 302
    with as_store(app, store):
        assert db.session.scalar(sa.select(InventoryLevel.on_hand)) == 6
