"""Deleting asks first: without `confirmed` a destructive post answers a
confirmation page and changes nothing; with it, it deletes and says so."""
import re

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.catalog.models import Collection, Product, ProductImage
from app.extensions import db
from tests.admin.test_catalog_dashboard import _count, _new_product, _product_id
from tests.catalog.helpers import png_bytes
from tests.conftest import as_store


def _bulk(browser, store, pairs):
    listing = f"/dashboard/{store.handle}/products"
    return browser.flask.post(f"{listing}/bulk", headers={"Host": "localhost"},
                              data=MultiDict([("csrf_token", browser.csrf_token(listing)), *pairs]))


def _statuses(app, store):
    with as_store(app, store):
        return dict(db.session.execute(sa.select(Product.title, Product.status)).all())


def _products(browser, store, *titles):
    return [_product_id(_new_product(browser, store, title=title, sku=title.upper(), status="active"))
            for title in titles]


def test_the_bulk_menu_starts_on_no_action_and_refuses_it(app, merchant):
    browser, _, store = merchant
    ids = _products(browser, store, "Lamp", "Vase")
    listing = browser.get(f"/dashboard/{store.handle}/products").get_data(as_text=True)
    menu = re.search(r'<select name="action".*?</select>', listing, re.S).group(0)
    options = re.findall(r'<option value="([a-z]*)"', menu)
    assert options[:2] == ["", "archive"] and options[-1] == "delete"
    assert re.search(r'<option value="" selected>Choose an action…</option>', menu)
    for pairs in ([("action", "")], []):
        refused = _bulk(browser, store, [("ids", str(i)) for i in ids] + pairs)
        page = refused.get_data(as_text=True)
        assert refused.status_code == 400 and "Choose an action for the selected products first" in page
        assert "Lamp" in page  # the list, as it was
    assert _statuses(app, store) == {"Lamp": "active", "Vase": "active"}


def test_bulk_delete_asks_first_and_offers_archive(app, merchant):
    browser, _, store = merchant
    ids = _products(browser, store, "Lamp", "Vase", "Chair")
    chosen = [("ids", str(i)) for i in ids[:2]] + [("query", "status=active")]
    asked = _bulk(browser, store, [*chosen, ("action", "delete")])
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Delete 2 products?" in page
    assert "<li>Lamp</li>" in page and "<li>Vase</li>" in page and "Chair" not in page
    assert 'name="confirmed" value="yes"' in page
    assert re.search(r'name="action" value="archive"[^>]*>Archive 2 products instead', page)
    assert re.search(r'name="action" value="delete"[^>]*>Delete 2 products', page)
    assert re.search(r'<a class="button secondary" href="/dashboard/[^"]+/products\?status=active">Cancel</a>', page)
    assert _count(app, store, Product) == 3

    archived = _bulk(browser, store, [*chosen, ("confirmed", "yes"), ("action", "archive")])
    assert archived.status_code == 302
    assert _statuses(app, store) == {"Lamp": "archived", "Vase": "archived", "Chair": "active"}
    assert "2 products archived." in browser.get(archived.headers["Location"]).get_data(as_text=True)

    deleted = _bulk(browser, store, [*chosen, ("confirmed", "yes"), ("action", "delete")])
    assert deleted.status_code == 302 and _statuses(app, store) == {"Chair": "active"}
    assert "2 products deleted." in browser.get(deleted.headers["Location"]).get_data(as_text=True)


def test_collection_delete_asks_first(app, merchant):
    browser, _, store = merchant
    new = f"/dashboard/{store.handle}/collections/new"
    path = browser.post(new, {"title": "Favourites", "kind": "manual"}, csrf_from=new).headers["Location"]
    asked = browser.post(path, {"title": "Favourites", "delete": "yes"}, csrf_from=path)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Delete the collection “Favourites”?" in page
    assert 'name="delete" value="yes"' in page and 'name="confirmed" value="yes"' in page
    assert f'href="{path}">Cancel</a>' in page
    assert _count(app, store, Collection) == 1
    done = browser.post(path, {"delete": "yes", "confirmed": "yes"}, csrf_from=path)
    assert done.status_code == 302 and _count(app, store, Collection) == 0
    assert "Deleted the collection “Favourites”" in browser.get(done.headers["Location"]).get_data(as_text=True)


def test_image_removal_asks_first(app, merchant):
    browser, _, store = merchant
    product_id = _product_id(_new_product(browser, store))
    path = f"/dashboard/{store.handle}/products/{product_id}"
    browser.upload(f"{path}/images", {"alt": "Side view"}, {"image": (png_bytes(), "side.png")}, csrf_from=path)
    with as_store(app, store):
        image_id = db.session.scalar(sa.select(ProductImage.id))
    editor = browser.get(path).get_data(as_text=True)
    assert 'data-confirm="Remove image 1?' in editor and "hx-confirm" not in editor
    asked = browser.post(f"{path}/images/{image_id}", {"delete": "yes", "page": "1"}, csrf_from=path)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Remove image 1 of “Trail Runner”?" in page and "<li>Side view</li>" in page
    assert f'href="{path}#images">Cancel</a>' in page
    assert _count(app, store, ProductImage) == 1
    done = browser.post(f"{path}/images/{image_id}", {"delete": "yes", "confirmed": "yes", "page": "1"},
                        csrf_from=path)
    assert done.status_code == 302 and _count(app, store, ProductImage) == 0
