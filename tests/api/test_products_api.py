"""JSON API v1 products: shape, filters, pagination, availability, errors, isolation."""
import io
import shutil
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
from PIL import Image

from app.catalog import collections
from app.catalog import products as catalog
from app.catalog.images import store_image
from app.catalog.models import ProductImage
from app.catalog.products import OptionSpec
from app.extensions import db
from app.inventory import service as inventory
from tests.conftest import as_store, run_effects, sql_statements

ACTOR = "api-tests@example.com"
PRODUCT_KEYS = {"id", "handle", "title", "description_html", "vendor", "product_type", "tags", "options", "variants",
                "images", "available", "created_at", "updated_at"}
VARIANT_KEYS = {"id", "title", "option1", "option2", "option3", "sku", "barcode", "price", "compare_at_price",
                "weight_grams", "available", "image_id"}


@pytest.fixture
def shop(make_store, service_env):
    """A new store (its search index cleared of any earlier session's) and a GET on its host."""

    def make(**kwargs):
        store = make_store(**kwargs)
        shutil.rmtree(Path(service_env["VAR_DIR"]) / "search" / str(store.id), ignore_errors=True)
        return store

    return make


def get(client, store, path):
    return client.get(path, host=f"{store.handle}.localhost" if store else "localhost")


def listing(client, store, query=""):
    response = get(client, store, f"/api/v1/products{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def handles(client, store, query=""):
    return [p["handle"] for p in listing(client, store, query)["products"]]


def make_product(title, *, options=(), **fields):
    return catalog.create_product({"title": title, "price": "10", "status": "active", **fields},
                                  options=list(options), actor=ACTOR)


def add_image(store, product, alt):
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 40, 30)).save(picture, "PNG")
    image = ProductImage(product_id=product.id, position=len(product.images) + 1, alt=alt,
                         **store_image(store.id, picture.getvalue()))
    product.images.append(image)
    db.session.commit()
    return image


def test_a_product_in_full(app, client, shop):
    store = shop()
    with as_store(app, store):
        shirt = make_product("Linen Shirt", price="49.50", compare_at_price="60", sku="SHIRT-S", barcode="123456",
                             weight_grams="180", vendor="Acme", product_type="Shirts", tags="summer, linen",
                             description_html="<p>Soft <b>linen</b></p>", track_inventory=False,
                             options=[OptionSpec("Size", ["S", "M"]), OptionSpec("Color", ["Sand"])])
        image = add_image(store, shirt, "A sand linen shirt")
        catalog.update_variant(shirt, shirt.variants[0].id, {"price": "49.50", "compare_at_price": "60",
                                                             "sku": "SHIRT-S", "barcode": "123456",
                                                             "weight_grams": "180", "track_inventory": "",
                                                             "image_id": str(image.id)}, actor=ACTOR)
        ids = {"product": shirt.id, "variants": [v.id for v in shirt.variants], "image": image.id,
               "key": image.storage_key}

    response = get(client, store, "/api/v1/products")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "public, max-age=30"
    assert "Set-Cookie" not in response.headers
    [product] = response.get_json()["products"]
    assert set(product) == PRODUCT_KEYS
    assert (product["id"], product["handle"], product["title"]) == (ids["product"], "linen-shirt", "Linen Shirt")
    assert (product["vendor"], product["product_type"], product["tags"]) == ("Acme", "Shirts", ["summer", "linen"])
    assert product["description_html"] == "<p>Soft <b>linen</b></p>"
    assert product["options"] == [{"name": "Size", "position": 1, "values": ["S", "M"]},
                                  {"name": "Color", "position": 2, "values": ["Sand"]}]
    first, second = product["variants"]
    assert set(first) == VARIANT_KEYS
    assert first == {"id": ids["variants"][0], "title": "S / Sand", "option1": "S", "option2": "Sand",
                     "option3": None, "sku": "SHIRT-S", "barcode": "123456",
                     "price": {"amount": 4950, "currency": "USD", "formatted": "$49.50"},
                     "compare_at_price": {"amount": 6000, "currency": "USD", "formatted": "$60.00"},
                     "weight_grams": 180, "available": True, "image_id": ids["image"]}
    assert second["id"] == ids["variants"][1] and second["title"] == "M / Sand" and second["sku"] == "SHIRT-S-M-SAND"
    assert second["image_id"] is None
    assert product["images"] == [{
        "id": ids["image"], "position": 1, "alt": "A sand linen shirt", "width": 64, "height": 48,
        "src": f"http://{store.handle}.localhost/media/{ids['key']}",
        "thumbnails": {"160": f"http://{store.handle}.localhost/media/{ids['key'].rsplit('.', 1)[0]}_160.webp",
                       "640": f"http://{store.handle}.localhost/media/{ids['key'].rsplit('.', 1)[0]}_640.webp"}}]
    served = get(client, store, product["images"][0]["src"].split("localhost", 1)[1])
    served.close()
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert product["available"] is True
    for moment in (product["created_at"], product["updated_at"]):
        assert moment.endswith("Z") and datetime.fromisoformat(moment).utcoffset().total_seconds() == 0

    detail = get(client, store, "/api/v1/products/linen-shirt")
    assert detail.status_code == 200 and detail.headers["Cache-Control"] == "public, max-age=30"
    assert detail.get_json() == {"product": product}


def test_prices_follow_the_store_currency(app, client, shop):
    store = shop(currency="JPY")
    with as_store(app, store):
        make_product("Tea bowl", price="1500", compare_at_price=None)
    variant = listing(client, store)["products"][0]["variants"][0]
    assert variant["price"] == {"amount": 1500, "currency": "JPY", "formatted": "￥1,500"}  # a JPY store starts in ja_JP
    assert variant["compare_at_price"] is None


def test_drafts_and_archived_products_are_invisible(app, client, shop):
    store = shop()
    with as_store(app, store):
        make_product("Shown")
        make_product("Sketch", status="draft")
        make_product("Retired", status="archived")
    assert handles(client, store) == ["shown"]
    assert listing(client, store)["pagination"]["total"] == 1
    for handle in ("sketch", "retired", "never-made"):
        missing = get(client, store, f"/api/v1/products/{handle}")
        assert missing.status_code == 404
        assert missing.get_json()["error"]["code"] == "not_found"
        assert handle in missing.get_json()["error"]["message"]


@pytest.mark.parametrize("kind", ["manual", "automated"])
def test_drafts_and_archived_products_never_show_through_a_collection(app, client, shop, kind):
    store = shop()
    with as_store(app, store):
        # Same words, vendor, tag and stock as the active one: only the status tells them apart.
        made = {status: make_product(f"Harbour lantern {status}", status=status, vendor="Quay", tags="lamps",
                                     track_inventory=False) for status in ("draft", "active", "archived")}
        if kind == "manual":
            collection = collections.create_collection({"title": "Lights"}, kind="manual")
            collections.set_products(collection, [made["draft"].id, made["archived"].id, made["active"].id])
        else:
            collections.create_collection({"title": "Lights"}, kind="automated",
                                          rules=[{"field": "tag", "relation": "equals", "value": "lamps"}])
        run_effects()

    for query in ("", "&q=lantern", "&q=draft", "&q=archived", "&vendor=quay", "&tag=lamps", "&available=true",
                  "&q=harbour&vendor=quay&tag=lamps&available=true", "&limit=1", "&limit=1&page=2"):
        body = listing(client, store, f"?collection=lights{query}")
        shown = [p["handle"] for p in body["products"]]
        assert set(shown) <= {"harbour-lantern-active"}, query
        assert body["pagination"]["total"] == (0 if query in ("&q=draft", "&q=archived") else 1), query
    for status in ("draft", "archived"):
        assert get(client, store, f"/api/v1/products/harbour-lantern-{status}").status_code == 404


def test_filters(app, client, shop):
    store = shop()
    with as_store(app, store):
        boots = make_product("Hiking boots", vendor="Alpine Co", product_type="Shoes", tags="outdoor, leather")
        make_product("Beach sandals", vendor="Sunny", product_type="Shoes", tags="summer")
        jacket = make_product("Rain jacket", vendor="Alpine Co", product_type="Outerwear", tags="Outdoor")
        make_product("Hidden hiking boots", vendor="Alpine Co", status="draft")
        picks = collections.create_collection({"title": "Staff picks"}, kind="manual")
        collections.set_products(picks, [jacket.id, boots.id])
        collections.create_collection({"title": "Footwear"}, kind="automated",
                                      rules=[{"field": "product_type", "relation": "equals", "value": "shoes"}])
        run_effects()  # index the catalog the way the worker does

    assert handles(client, store, "?vendor=alpine+co") == ["rain-jacket", "hiking-boots"]  # newest first
    assert handles(client, store, "?product_type=Shoes") == ["beach-sandals", "hiking-boots"]
    assert handles(client, store, "?tag=OUTDOOR") == ["rain-jacket", "hiking-boots"]
    assert handles(client, store, "?tag=outdoor&product_type=shoes") == ["hiking-boots"]
    assert handles(client, store, "?collection=staff-picks") == ["rain-jacket", "hiking-boots"]  # merchant's order
    assert handles(client, store, "?collection=footwear") == ["beach-sandals", "hiking-boots"]
    assert handles(client, store, "?collection=footwear&vendor=sunny") == ["beach-sandals"]
    assert handles(client, store, "?q=boots") == ["hiking-boots"]  # never the draft with the same words
    assert handles(client, store, "?q=sandals+OR+jacket&vendor=sunny") == ["beach-sandals"]
    assert sorted(handles(client, store, "?q=alpine&collection=staff-picks")) == ["hiking-boots", "rain-jacket"]
    assert handles(client, store, "?q=jacket&collection=footwear") == []
    assert handles(client, store, "?q=nothing-like-this") == []
    assert handles(client, store, "?q=+++") == ["rain-jacket", "beach-sandals", "hiking-boots"]  # blank: no filter
    assert handles(client, store, "?vendor=nobody") == []

    unknown = get(client, store, "/api/v1/products?collection=no-such-collection")
    assert unknown.status_code == 404 and unknown.get_json()["error"]["code"] == "not_found"


def test_pagination_is_stable_and_linked(app, client, shop):
    store = shop()
    with as_store(app, store):
        made = [make_product(f"Print {n}").handle for n in range(7)]
    newest_first = list(reversed(made))

    first = listing(client, store, "?limit=3&vendor=")
    assert first["pagination"] == {"page": 1, "limit": 3, "total": 7, "pages": 3, "prev": None,
                                   "next": f"http://{store.handle}.localhost/api/v1/products?limit=3&vendor=&page=2"}
    seen = [p["handle"] for p in first["products"]]
    page = first
    while page["pagination"]["next"]:
        response = get(client, store, page["pagination"]["next"].split("localhost", 1)[1])
        assert f'<{page["pagination"]["next"]}>' not in response.headers.get("Link", "")
        page = response.get_json()
        seen += [p["handle"] for p in page["products"]]
    assert seen == newest_first
    assert page["pagination"]["page"] == 3 and page["pagination"]["next"] is None
    assert page["pagination"]["prev"].endswith("page=2")

    middle = get(client, store, "/api/v1/products?limit=3&page=2")
    assert middle.headers["Link"] == (f'<http://{store.handle}.localhost/api/v1/products?limit=3&page=3>; rel="next", '
                                      f'<http://{store.handle}.localhost/api/v1/products?limit=3&page=1>; rel="prev"')
    beyond = listing(client, store, "?limit=3&page=9")
    assert beyond["products"] == [] and beyond["pagination"]["total"] == 7
    assert beyond["pagination"]["next"] is None and beyond["pagination"]["prev"].endswith("page=3")
    assert listing(client, store)["pagination"]["limit"] == 25
    assert len(listing(client, store, "?limit=100")["products"]) == 7


def test_availability_is_a_boolean_and_stock_never_shows(app, client, shop):
    store = shop()
    with as_store(app, store):
        lamp = make_product("Desk lamp", options=[OptionSpec("Finish", ["Brass", "Black"])])
        brass, black = (v.id for v in lamp.variants)
        warehouse = inventory.create_location("Warehouse").id
        backroom = inventory.create_location("Back room").id
        inventory.adjust(brass, warehouse, "7391", reason="received", actor=ACTOR)
        inventory.adjust(black, backroom, "4823", reason="received", actor=ACTOR)
        make_product("Gift card", track_inventory=False)
        make_product("Sold out poster")

    def state():
        response = get(client, store, "/api/v1/products/desk-lamp")
        text = response.get_data(as_text=True)
        assert "7391" not in text and "4823" not in text
        assert not {"on_hand", "reserved", "inventory", "quantity", "stock"} & _keys(response.get_json())
        product = response.get_json()["product"]
        return product["available"], [v["available"] for v in product["variants"]]

    assert state() == (True, [True, True])
    assert handles(client, store, "?available=true") == ["gift-card", "desk-lamp"]
    assert handles(client, store, "?available=false") == ["sold-out-poster"]

    with as_store(app, store):
        inventory.adjust(brass, warehouse, "-7391", reason="damaged", actor=ACTOR)
    assert state() == (True, [False, True])

    with as_store(app, store):  # stock at an inactive location cannot be sold
        inventory.update_location(backroom, name="Back room", address="", active=False)
    assert state() == (False, [False, False])
    assert handles(client, store, "?available=false") == ["sold-out-poster", "desk-lamp"]
    assert handles(client, store, "?available=TRUE") == ["gift-card"]

    with as_store(app, store):
        inventory.adjust(brass, warehouse, "1", reason="received", actor=ACTOR)
    assert state() == (True, [True, False])


def _keys(data) -> set[str]:
    if isinstance(data, dict):
        return set(data) | {k for value in data.values() for k in _keys(value)}
    if isinstance(data, list):
        return {k for item in data for k in _keys(item)}
    return set()


@pytest.mark.parametrize("query, parameter", [
    ("page=abc", "page"), ("page=0", "page"), ("page=-1", "page"), ("page=1.5", "page"), ("page=", "page"),
    ("page=%EF%BC%91", "page"), ("page=99999999999999999999", "page"), ("page=%C2%B2", "page"),
    ("page=100001", "page"),
    ("limit=1000", "limit"), ("limit=101", "limit"), ("limit=0", "limit"), ("limit=ten", "limit"),
    ("available=maybe", "available"), ("available=", "available"), ("q=" + "x" * 201, "q"),
    ("vendor=" + "v" * 256, "vendor"),
])
def test_bad_parameters_are_a_400_with_a_stable_code(client, shop, query, parameter):
    response = get(client, shop(), f"/api/v1/products?{query}")
    assert response.status_code == 400 and response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "invalid_parameter" and error["parameter"] == parameter
    assert f"`{parameter}`" in error["message"]
    assert "Cache-Control" not in response.headers or "public" not in response.headers["Cache-Control"]


def test_unknown_routes_and_methods_answer_json(client, shop):
    store = shop()
    missing = get(client, store, "/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.get_json()["error"]["code"] == "not_found"
    post = client.flask.post("/api/v1/products", headers={"Host": f"{store.handle}.localhost"})
    assert post.status_code == 405 and post.get_json()["error"]["code"] == "method_not_allowed"


def test_the_api_does_not_answer_on_the_platform_host(client):
    for path in ("/api/v1/products", "/api/v1/products/anything"):
        response = get(client, None, path)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("tier", ["pooled", "dedicated"])
def test_another_stores_products_are_not_found(app, client, shop, tier):
    mine, theirs = shop(), shop(tier=tier)
    with as_store(app, theirs):
        secret = make_product("Secret prototype", vendor="Rival", tags="secret").id
        run_effects()
    with as_store(app, mine):
        make_product("Public tee")
        run_effects()

    assert get(client, theirs, "/api/v1/products/secret-prototype").status_code == 200
    response = get(client, mine, "/api/v1/products/secret-prototype")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    for query in ("", "?vendor=rival", "?tag=secret", "?q=prototype", "?q=secret"):
        assert handles(client, mine, query) == ([] if query else ["public-tee"]), query
    assert secret not in [p["id"] for p in listing(client, mine)["products"]]


def test_a_page_costs_the_same_queries_whatever_its_size(app, client, shop):
    """Variants, options, images and availability load per page, never per product."""
    small, large = shop(), shop()
    with as_store(app, small):
        _stocked_catalog(small, 2)
    with as_store(app, large):
        _stocked_catalog(large, 12)

    def statements(store):
        get(client, store, "/api/v1/products")  # warm the host cache
        with sql_statements() as seen:
            body = listing(client, store, "?available=true")
        return len(body["products"]), len(seen)

    small_count, small_statements = statements(small)
    large_count, large_statements = statements(large)
    assert (small_count, large_count) == (2, 12)
    assert small_statements == large_statements


def _stocked_catalog(store, count):
    location = inventory.create_location("Main").id
    for n in range(count):
        product = make_product(f"Item {n}", options=[OptionSpec("Size", ["S", "M"])])
        add_image(store, product, f"Item {n}")
        inventory.adjust(product.variants[0].id, location, "3", reason="received", actor=ACTOR)


@pytest.mark.parametrize("text", ['(', ')', '"', 'title:', '*', 'AND', 'NOT', '[a TO', 'status:draft', 'id:*',
                                  'price_min:[0 TO]', 'a' * 200, '\u00e9t\u00e9 \U0001f600', '%', 'OR OR'])
def test_any_search_text_is_answered(app, client, shop, text):
    store = shop()
    with as_store(app, store):
        make_product("Summer dress", status="active")
        make_product("Status draft", status="draft")
        run_effects()
    response = get(client, store, "/api/v1/products?" + urlencode({"q": text}))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert "status-draft" not in [p["handle"] for p in response.get_json()["products"]]
