"""Shopify product CSV: export, and import through a real RQ worker."""
import csv
import io
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from PIL import Image
from sqlalchemy.orm import selectinload

from app.catalog import csv_format, image_fetch, imports
from app.catalog import products as catalog
from app.catalog.errors import CatalogError
from app.catalog.images import store_image
from app.catalog.jobs import run_import
from app.catalog.models import ImportJob, PendingImage, Product, ProductImage
from app.catalog.products import OptionSpec
from app.extensions import db
from app.inventory import service as inventory
from app.media.storage import storage
from tests.conftest import as_store, flask_cli, wait_until

ACTOR = "merchant@example.com"
FIXTURES = Path(__file__).parent / "fixtures"


def png(width: int, height: int, color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def web(app):
    """An HTTP server on 127.0.0.1: `files` by path, and /media/ from our media storage."""
    with app.app_context():
        media = storage().root
    files: dict[str, bytes] = {}
    hits: Counter = Counter()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            hits[self.path] += 1
            body = files.get(self.path)
            if body is None and self.path.startswith("/media/"):
                path = media / self.path[len("/media/"):]
                body = path.read_bytes() if path.is_file() else None
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", files=files, hits=hits)
    server.shutdown()
    server.server_close()
    thread.join()


def start(app, store, data: bytes, filename: str = "products.csv") -> str:
    with as_store(app, store):
        return imports.start_import(filename, data, ACTOR).token


def work(service_env) -> None:
    """A real RQ worker drains the imports queue (image URLs on 127.0.0.1 allowed)."""
    flask_cli({**service_env, "IMPORT_ALLOW_PRIVATE_URLS": "1"}, "worker", "--burst", "--queue", "imports")


def import_file(app, service_env, store, data: bytes) -> SimpleNamespace:
    token = start(app, store, data)
    work(service_env)
    return job_state(app, store, token)


def job_state(app, store, token: str) -> SimpleNamespace:
    with as_store(app, store):
        job = imports.get_import(token)
        return SimpleNamespace(**{c.name: getattr(job, c.name) for c in ImportJob.__table__.columns})


def catalog_of(app, store) -> dict:
    """Every product, field by field, without ids (storage keys by their content digest)."""
    def digest(key):
        return key.split("/", 1)[1] if key else None

    with as_store(app, store):
        products = db.session.scalars(sa.select(Product).order_by(Product.handle).options(
            selectinload(Product.options), selectinload(Product.variants), selectinload(Product.images))).all()
        on_hand = Counter()
        for (variant_id, _), level in inventory.levels([v.id for p in products for v in p.variants]).items():
            on_hand[variant_id] += level.on_hand
        result = {}
        for p in products:
            keys = {i.id: i.storage_key for i in p.images}
            result[p.handle] = {
                "fields": {k: getattr(p, k) for k in ("title", "description_html", "vendor", "product_type", "tags",
                                                      "status", "seo_title", "seo_description")},
                "options": [(o.position, o.name, list(o.values)) for o in p.options],
                "variants": [{"position": v.position, "values": v.option_values, "sku": v.sku,
                              "barcode": v.barcode, "price": v.price, "compare_at_price": v.compare_at_price,
                              "weight_grams": v.weight_grams, "track_inventory": v.track_inventory,
                              "on_hand": on_hand[v.id], "image": digest(keys.get(v.image_id))} for v in p.variants],
                "images": [{"position": i.position, "alt": i.alt, "digest": digest(i.storage_key),
                            "size": (i.width, i.height), "content_type": i.content_type} for i in p.images],
            }
        return result


def upload_keys(app, store) -> list[str]:
    """The store's uploads still kept in private storage."""
    with app.app_context():
        folder = imports.uploads().root / str(store.id)
        return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def shopify_fixture(base: str) -> bytes:
    return (FIXTURES / "shopify_products.csv").read_text(encoding="utf-8").replace("{{IMAGE_BASE}}", base).encode()


def serve_fixture_images(web) -> None:
    for name, (size, color) in {"tee-front.png": ((40, 30), "black"), "tee-back.png": ((40, 30), "white"),
                                "tee-detail.png": ((20, 20), "grey"), "mug.png": ((30, 30), "blue")}.items():
        web.files[f"/{name}"] = png(*size, color)


def rows_of(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def test_export_then_import_into_another_store_gives_the_same_catalog(app, make_store, service_env, web):
    source, target = make_store(), make_store()
    with as_store(app, source):
        shirt = catalog.create_product(
            {"title": "Linen Shirt", "price": "49.50", "compare_at_price": "60", "vendor": "Acme", "status": "active",
             "tags": "summer, linen", "description_html": "<p>Cool, <em>crisp</em> linen.</p>",
             "seo_title": "Linen Shirt", "seo_description": "Breathes in the heat.", "product_type": "Shirts",
             "weight_grams": "210"},
            options=[OptionSpec("Size", ["S", "M"]), OptionSpec("Color", ["Sand", "Sky"])], actor=ACTOR)
        for n, variant in enumerate(shirt.variants):
            catalog.update_variant(shirt, variant.id, {"price": f"{49 + n}.50", "sku": f"SHIRT-{n}",
                                                       "barcode": f"400{n}", "weight_grams": "210",
                                                       "track_inventory": n != 3}, actor=ACTOR)
        catalog.create_product({"title": "Gift Card Holder", "price": "5", "sku": "HOLDER", "status": "draft"},
                               actor=ACTOR)
        catalog.create_product({"title": "Old Hat", "price": "15", "status": "archived"},
                               options=[OptionSpec("Size", ["One size"])], actor=ACTOR)
        shop, back = inventory.create_location("Shop"), inventory.create_location("Back room")
        shirt = catalog.get_product(shirt.id)
        for n, variant in enumerate(shirt.variants):
            inventory.set_on_hand(variant.id, shop.id, n + 2, reason="received", actor=ACTOR)
        inventory.set_on_hand(shirt.variants[0].id, back.id, 5, reason="received", actor=ACTOR)
        for n, (color, alt) in enumerate([("red", "Front"), ("green", "Back, folded")], 1):
            shirt.images.append(ProductImage(position=n, alt=alt, **store_image(source.id, png(32, 24, color))))
        db.session.flush()
        shirt.variants[1].image_id = shirt.images[1].id
        db.session.commit()

        chunks = list(csv_format.export_products(web.url, batch=2))
    exported = "".join(chunks)
    assert len(chunks) == 2  # streamed a page of products at a time
    rows = rows_of(exported)
    assert list(rows[0]) == list(csv_format.COLUMNS)
    first = next(r for r in rows if r["Handle"] == "linen-shirt")
    assert (first["Title"], first["Option1 Name"], first["Option2 Name"], first["Variant Price"],
            first["Variant Inventory Qty"], first["Published"], first["Status"]) == (
        "Linen Shirt", "Size", "Color", "49.50", "7", "TRUE", "active")
    assert first["Image Src"].startswith(f"{web.url}/media/{source.id}/")
    holder = next(r for r in rows if r["Handle"] == "gift-card-holder")
    assert (holder["Option1 Name"], holder["Option1 Value"], holder["Published"]) == ("Title", "Default Title", "FALSE")

    job = import_file(app, service_env, target, exported.encode())
    assert (job.status, job.created_products, job.updated_products, job.failed_products) == ("done", 3, 0, 0)
    assert job.report == [] and job.processed_rows == job.total_rows == len(rows)
    assert catalog_of(app, target) == catalog_of(app, source)
    with as_store(app, target):
        assert [loc.name for loc in inventory.locations()] == [inventory.DEFAULT_LOCATION]


def test_import_of_a_file_with_shopifys_full_column_set(app, make_store, service_env, web):
    serve_fixture_images(web)
    store = make_store()
    job = import_file(app, service_env, store, shopify_fixture(web.url))
    assert (job.status, job.total_rows, job.created_products, job.failed_products) == ("done", 8, 3, 0)
    assert job.report == []
    found = catalog_of(app, store)
    assert sorted(found) == ["classic-tee", "gift-mug", "wool-scarf"]

    tee = found["classic-tee"]
    assert tee["fields"] == {
        "title": "Classic Tee", "description_html": "<p>Soft, <strong>combed</strong> cotton.</p>\n"
                                                    "<p>Machine wash, 30 °C.</p>",
        "vendor": "Acme Apparel", "product_type": "T-Shirts", "tags": ["cotton", "summer", "basics"],
        "status": "active", "seo_title": "Classic Tee | Acme", "seo_description": "A soft cotton tee for every day."}
    assert tee["options"] == [(1, "Size", ["S", "M"]), (2, "Color", ["Black", "White"])]
    assert [(v["values"], v["sku"], v["price"], v["compare_at_price"], v["weight_grams"], v["barcode"],
             v["on_hand"], v["track_inventory"]) for v in tee["variants"]] == [
        (("S", "Black"), "TEE-S-BLK", 1999, 2499, 180, "0001", 10, True),
        (("S", "White"), "TEE-S-WHT", 1999, 2499, 180, "0002", 0, True),
        (("M", "Black"), "TEE-M-BLK", 2100, None, 200, "0003", 7, True),
        (("M", "White"), "TEE-M-WHT", 2100, None, 200, "0004", 3, True)]
    assert [(i["position"], i["alt"], i["size"], i["content_type"]) for i in tee["images"]] == [
        (1, "Tee, front", (40, 30), "image/png"), (2, "Tee, back", (40, 30), "image/png"),
        (3, "Stitching", (20, 20), "image/png")]
    assert [v["image"] for v in tee["variants"]] == [tee["images"][0]["digest"], tee["images"][1]["digest"],
                                                     None, None]

    mug = found["gift-mug"]
    assert (mug["fields"]["status"], mug["options"], len(mug["variants"])) == ("draft", [], 1)
    assert (mug["variants"][0]["values"], mug["variants"][0]["price"], mug["variants"][0]["track_inventory"],
            mug["variants"][0]["on_hand"]) == ((), 1200, False, 0)
    assert [(i["alt"], i["size"]) for i in mug["images"]] == [("The mug", (30, 30))]
    scarf = found["wool-scarf"]
    assert (scarf["fields"]["status"], scarf["fields"]["tags"]) == ("archived", [])
    assert [(v["values"], v["on_hand"]) for v in scarf["variants"]] == [(("Grey",), 4), (("Navy",), 2)]
    with as_store(app, store):
        for image in db.session.scalars(sa.select(ProductImage)):
            assert storage().path(image.storage_key).is_file()
            assert image.source_url.startswith(web.url)


def test_importing_again_updates_products_instead_of_duplicating_them(app, make_store, service_env, web):
    serve_fixture_images(web)
    store = make_store()
    import_file(app, service_env, store, shopify_fixture(web.url))
    with as_store(app, store):
        ids = {(v.product_id, v.sku): v.id for v in db.session.scalars(sa.select(catalog.Variant))}
    before = catalog_of(app, store)
    fetched = sum(web.hits.values())

    again = import_file(app, service_env, store, shopify_fixture(web.url))
    assert (again.status, again.created_products, again.updated_products, again.failed_products) == ("done", 0, 3, 0)
    assert again.report == []
    assert catalog_of(app, store) == before
    assert sum(web.hits.values()) == fetched  # known image URLs are not fetched again
    with as_store(app, store):
        assert {(v.product_id, v.sku): v.id for v in db.session.scalars(sa.select(catalog.Variant))} == ids
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProductImage)) == 4

    edited = shopify_fixture(web.url).decode()
    edited = edited.replace("Classic Tee,", "Classic Tee II,", 1).replace(",21.00,", ",22.50,")
    edited = edited.replace("classic-tee,,,,,,,,,M,,White,,,TEE-M-WHT", "classic-tee,,,,,,,,,L,,White,,,TEE-L-WHT")
    edited = "\n".join(line for line in edited.splitlines() if "SCARF-NVY" not in line) + "\n"
    third = import_file(app, service_env, store, edited.encode())
    assert (third.status, third.updated_products, third.failed_products) == ("done", 3, 0)
    after = catalog_of(app, store)
    tee = after["classic-tee"]
    assert tee["fields"]["title"] == "Classic Tee II"
    assert tee["options"] == [(1, "Size", ["S", "M", "L"]), (2, "Color", ["Black", "White"])]
    assert [(v["values"], v["sku"], v["price"]) for v in tee["variants"]] == [
        (("S", "Black"), "TEE-S-BLK", 1999), (("S", "White"), "TEE-S-WHT", 1999),
        (("M", "Black"), "TEE-M-BLK", 2250), (("L", "White"), "TEE-L-WHT", 2250)]
    assert [v["values"] for v in after["wool-scarf"]["variants"]] == [("Grey",)]
    assert third.report == [
        {"row": 2, "handle": "classic-tee", "message": "Removed 1 variant(s) the file does not list: M / White.",
         "kind": "warning"},
        {"row": 8, "handle": "wool-scarf", "message": "Removed 1 variant(s) the file does not list: Navy.",
         "kind": "warning"}]
    with as_store(app, store):
        kept = {(v.product_id, v.sku): v.id for v in db.session.scalars(sa.select(catalog.Variant))}
    assert {key: ids.get(key) for key in kept} == {**{key: ids[key] for key in ids if key in kept},
                                                   **{key: None for key in kept if key not in ids}}
    assert len(kept.keys() & ids.keys()) == 5  # S/Black, S/White, M/Black, Grey and the mug kept their rows


def test_a_price_only_file_updates_variants_by_sku(app, make_store, service_env):
    store = make_store()
    with as_store(app, store):
        catalog.create_product({"title": "Cap", "price": "10", "sku": "CAP", "handle": "cap"},  # CAP-S, CAP-L
                               options=[OptionSpec("Size", ["S", "L"])], actor=ACTOR)
        product = db.session.scalar(sa.select(Product))
        catalog.update_variant(product, product.variants[1].id, {"price": "10", "sku": "CAP-L"}, actor=ACTOR)
    job = import_file(app, service_env, store, b"Handle,Title,Variant SKU,Variant Price\n"
                                               b"cap,Cap,CAP-L,12.00\ncap,,CAP-S,11.00\ncap,,CAP-X,1\n")
    assert (job.created_products, job.updated_products, job.failed_products) == (0, 0, 1)
    assert job.report[0]["row"] == 4 and "No variant of “Cap” has the SKU “CAP-X”" in job.report[0]["message"]
    job = import_file(app, service_env, store, b"Handle,Title,Variant SKU,Variant Price\n"
                                               b"cap,Cap,CAP-L,12.00\ncap,,CAP-S,11.00\n")
    assert (job.updated_products, job.failed_products) == (1, 0)
    variants = catalog_of(app, store)["cap"]["variants"]
    assert [(v["values"], v["sku"], v["price"]) for v in variants] == [(("S",), "CAP-S", 1100),
                                                                        (("L",), "CAP-L", 1200)]


@pytest.mark.parametrize("data, message", [
    (b"Handle,Variant SKU,Variant Price\nhat,H1,10\n", "missing required column: Title"),
    (b"Name,Price\nhat,10\n", "missing required columns: Handle, Title"),
    ("Handle,Title,Vendor\nhat,Béret,Café\n".encode("latin-1"), "not UTF-8 text (byte 0xE9 on line 2"),
    ("Handle,Title\nhat,Béret\n".encode("utf-16"), "encoded as UTF-16"),
    ("Handle,Title\nhat,Hat\n".encode("utf-16-le"), "NUL bytes"),
    (b"PK\x03\x04\x14\x00\x06\x00", "spreadsheet workbook"),
    (b"", "empty"),
    (b"Handle,Title,Handle\nhat,Hat,hat\n", "“Handle” appears twice"),
    # the current layout's columns, named as that layout names them
    (b"URL handle,SKU,Price\nhat,H1,10\n",
     "missing required column: Title. The first row must be the column names of Shopify's product CSV, such as "
     "Title, URL handle, Option1 name, Option1 value, SKU, Price."),
    (b"Handle,Variant SKU\nhat,H1\n", "missing required column: Title. The first row must be the column names of "
                                      "Shopify's product CSV, such as Handle, Title, Option1 Name"),
    (b"Title,URL handle,Handle\nHat,hat,hat\n", "The columns “URL handle” and “Handle” both give the URL handle"),
])
def test_a_file_that_is_not_a_product_csv_is_refused_up_front(app, make_store, data, message):
    store = make_store()
    with as_store(app, store):
        with pytest.raises(CatalogError, match=re.escape(message)) as refused:
            imports.start_import("products.csv", data, ACTOR)
        assert refused.value.status == 422
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ImportJob)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == 0
    assert upload_keys(app, store) == []


def test_broken_rows_refuse_their_product_and_the_rest_is_imported(app, make_store, service_env):
    data = (
        b"Handle,Title,Option1 Name,Option1 Value,Option4 Name,Variant SKU,Variant Price,Variant Inventory Qty\n"
        b"good,Good Hat,Size,S,,GOOD-S,10.00,5\n"                         # row 2
        b"good,,,M,,GOOD-M,10.00,-2\n"                                    # row 3: negative stock is set to 0
        b"pricey,Pricey Hat,Size,S,,P-S,10.00,\n"                         # row 4
        b"pricey,,,M,,P-M,ten dollars,\n"                                 # row 5: bad price
        b"wide,Wide Hat,Size,S,Brim,W-S,10.00,\n"                         # row 6: a fourth option
        b"extra,Extra Hat,Size,S,,E-S,10.00,1,surplus\n"                  # row 7: too many fields
        b"twice,Twice Hat,Size,S,,T-1,10.00,\n"                           # row 8
        b"twice,,,S,,T-2,10.00,\n"                                        # row 9: the same variant again
        b"Bad Handle!,Bad,,,,,1,\n"                                       # row 10
        b"after,After Hat,,,,AFTER,3.5,\n"                                # row 11
    )
    store = make_store()
    job = import_file(app, service_env, store, data)
    assert (job.status, job.created_products, job.failed_products, job.total_rows) == ("done", 2, 5, 10)
    by_row = {entry["row"]: entry for entry in job.report}
    assert sorted(by_row) == [3, 5, 6, 7, 9, 10]
    assert by_row[3]["message"] == "Variant Inventory Qty -2 was set to 0: stock cannot be negative."
    assert by_row[3]["kind"] == "warning" and {by_row[n]["kind"] for n in (5, 6, 7, 9, 10)} == {"refused"}
    assert by_row[5] == {"row": 5, "handle": "pricey",
                         "message": "Variant Price: “ten dollars” is not an amount: use digits with a dot for "
                                    "decimals and no thousands separators, like 19.99 or 1234.50.", "kind": "refused"}
    assert "at most 3 options" in by_row[6]["message"]
    assert "9 fields but the header has 8" in by_row[7]["message"]
    assert "Two rows are both the variant “S”" in by_row[9]["message"]
    assert "Handle “bad handle!” is not valid" in by_row[10]["message"]
    found = catalog_of(app, store)
    assert sorted(found) == ["after", "good"]
    assert [(v["sku"], v["on_hand"]) for v in found["good"]["variants"]] == [("GOOD-S", 5), ("GOOD-M", 0)]
    assert found["after"]["variants"][0]["price"] == 350


def test_a_sku_on_two_products_of_the_file_imports_both_with_a_warning(app, make_store, service_env):
    """Shopify lets variants share a SKU: both products are imported and the
    later one's row is a warning in the report (once, not again from the
    store-wide check, since the file already said it)."""
    data = (b"Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Price\n"
            b"hat,Hat,Size,S,HAT-S,10\nhat,,,M,SHARED,10\n"
            b"cap,Cap,Size,S,CAP-S,10\ncap,,,M,SHARED,10\n")
    store = make_store()
    job = import_file(app, service_env, store, data)
    assert (job.created_products, job.failed_products) == (2, 0)
    assert job.report == [{"row": 5, "handle": "cap", "kind": "warning",
                           "message": "The SKU “SHARED” is also used by “hat” (row 3). The import kept both; SKUs "
                                      "shared by variants can mix up stock counts and orders."}]
    found = catalog_of(app, store)
    assert [v["sku"] for v in found["cap"]["variants"]] == ["CAP-S", "SHARED"]
    assert [v["sku"] for v in found["hat"]["variants"]] == ["HAT-S", "SHARED"]


def test_a_value_the_database_refuses_costs_only_its_product(app, make_store, service_env):
    """A price beyond PostgreSQL's bigint (and our MAX_AMOUNT) is refused by the
    amount check before the database sees it; only that product is refused.
    (The chunk replay on a database refusal no longer has a trigger here.)"""
    data = (b"Handle,Title,Variant Price,Variant Inventory Qty\n"
            b"before,Before,10.00,3\nhuge,Huge,99999999999999999999.00,1\nafter,After,12.00,4\n")
    store = make_store()
    job = import_file(app, service_env, store, data)
    assert (job.status, job.created_products, job.failed_products) == ("done", 2, 1)
    assert job.report == [{"row": 3, "handle": "huge", "message": "Variant Price: “99999999999999999999.00” is "
                                                                  "more than the largest amount we take, "
                                                                  "9999999999999.99.", "kind": "refused"}]
    found = catalog_of(app, store)
    assert [(handle, p["variants"][0]["on_hand"]) for handle, p in found.items()] == [("after", 4), ("before", 3)]


def test_images_that_cannot_be_fetched_are_reported_and_the_product_kept(app, make_store, service_env, web):
    web.files["/photo.png"] = png(64, 48, "orange")
    web.files["/notes.png"] = b"this is not an image"
    data = ("Handle,Title,Variant Price,Image Src,Image Alt Text\n"
            f"lamp,Desk Lamp,30.00,{web.url}/photo.png,Lit\n"
            f"lamp,,,{web.url}/missing.png,\n"
            f"lamp,,,{web.url}/notes.png,\n"
            f"lamp-2,Desk Lamp 2,31.00,{web.url}/photo.png,Also lit\n"
            "lamp-3,Desk Lamp 3,32.00,ftp://example.com/x.png,\n").encode()
    store = make_store()
    job = import_file(app, service_env, store, data)
    assert (job.status, job.created_products, job.failed_products) == ("done", 3, 0)
    kept = "It is kept on the product, to retry or remove."
    assert job.report == [
        {"row": 3, "handle": "lamp", "kind": "warning", "url": f"{web.url}/missing.png",
         "message": f"Image not fetched: the server answered 404 Not Found. {kept}"},
        {"row": 4, "handle": "lamp", "kind": "warning", "url": f"{web.url}/notes.png",
         "message": f"Image not fetched: That file is not an image we can use: upload a JPEG, PNG, WebP or GIF. {kept}"},
        {"row": 6, "handle": "lamp-3", "kind": "warning",
         "message": "Image ftp://example.com/x.png was not imported: it is not an http or https URL."}]
    assert (job.images_total, job.images_done, job.images_failed) == (4, 4, 2)
    with as_store(app, store):
        failed = db.session.scalars(sa.select(PendingImage).order_by(PendingImage.position)).all()
        assert [(p.source_url, p.status, p.attempts, p.position) for p in failed] == [
            (f"{web.url}/missing.png", "failed", 1, 2), (f"{web.url}/notes.png", "failed", 1, 3)]
        assert all(p.retry_at is not None and p.last_error for p in failed)
    assert web.hits["/photo.png"] == 1  # one fetch for a URL on two products
    found = catalog_of(app, store)
    assert [(i["alt"], i["size"]) for i in found["lamp"]["images"]] == [("Lit", (64, 48))]
    assert found["lamp-2"]["images"][0]["digest"] == found["lamp"]["images"][0]["digest"]
    assert found["lamp-3"]["images"] == []


def test_a_file_of_many_chunks_imports_in_full_and_fetches_a_shared_image_once(app, make_store, service_env, web):
    web.files["/logo.png"] = png(16, 16, "purple")
    count = imports.CHUNK * 3 + 7
    lines = ["Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Price,Variant Inventory Qty,Image Src"]
    for n in range(count):
        price = "oops" if n in (3, count - 2) else f"{n}.50"
        lines.append(f"item-{n},Item {n},Size,S,I{n}-S,{price},{n},{web.url}/logo.png")
        lines.append(f"item-{n},,,L,I{n}-L,{n}.75,1,")
    store = make_store()
    job = import_file(app, service_env, store, ("\n".join(lines) + "\n").encode())
    assert (job.status, job.created_products, job.failed_products) == ("done", count - 2, 2)
    assert job.processed_rows == job.total_rows == 2 * count
    assert [entry["row"] for entry in job.report] == [2 + 2 * 3, 2 + 2 * (count - 2)]  # in file order
    assert web.hits["/logo.png"] == 1
    found = catalog_of(app, store)
    assert len(found) == count - 2 and len({p["images"][0]["digest"] for p in found.values()}) == 1
    assert found[f"item-{count - 1}"]["variants"][0]["on_hand"] == count - 1


def test_image_urls_on_private_networks_are_refused_by_default(web):
    web.files["/photo.png"] = png(8, 8, "red")
    assert image_fetch.download(f"{web.url}/photo.png", allow_private=True) == web.files["/photo.png"]
    with pytest.raises(image_fetch.FetchProblem, match="private network"):
        image_fetch.download(f"{web.url}/photo.png")
    with pytest.raises(image_fetch.FetchProblem, match="private network"):
        image_fetch.download("http://169.254.169.254/latest/meta-data/")


def test_a_finished_import_is_not_run_again(app, make_store, service_env):
    store = make_store()
    job = import_file(app, service_env, store, b"Handle,Title,Variant Price\nhat,Hat,10\n")
    assert job.status == "done"
    with app.app_context():
        assert run_import(store.id, job.id) == "skipped"
    with as_store(app, store):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Product)) == 1
    assert job_state(app, store, job.token).finished_at == job.finished_at


def test_an_import_whose_upload_is_gone_fails_with_a_reason(app, make_store, service_env):
    store = make_store()
    token = start(app, store, b"Handle,Title,Variant Price\nhat,Hat,10\n")
    assert upload_keys(app, store) == [f"{token}.csv"]
    with app.app_context():
        imports.uploads().delete(f"{store.id}/{token}.csv")
    work(service_env)
    job = job_state(app, store, token)
    assert job.status == "failed" and "no longer kept" in job.error and job.finished_at is not None


# -- imports that share the workers fairly and survive a dead worker --------------------------------------------

def _many(count: int, prefix: str = "item", image_url: str | None = None) -> bytes:
    lines = ["Handle,Title,Variant SKU,Variant Price,Image Src"]
    for n in range(count):
        image = image_url if image_url and n >= imports.CHUNK else ""
        lines.append(f"{prefix}-{n},{prefix.title()} {n},{prefix.upper()}-{n},{n}.25,{image}")
    return ("\n".join(lines) + "\n").encode()


def test_a_big_import_yields_the_worker_to_another_stores_import(app, make_store, service_env):
    big, small = make_store(), make_store()
    big_token = start(app, big, _many(imports.CHUNK * 6))  # three steps of two chunks each
    small_token = start(app, small, _many(1, "cap"))  # queued behind the big one's first step
    flask_cli({**service_env, "IMPORT_STEP_SECONDS": "0"}, "worker", "--burst", "--queue", "imports")
    big_job, small_job = job_state(app, big, big_token), job_state(app, small, small_token)
    assert big_job.status == small_job.status == "done"
    assert big_job.created_products == imports.CHUNK * 6 and small_job.created_products == 1
    assert small_job.finished_at < big_job.finished_at  # it did not wait for the whole big file
    assert upload_keys(app, big) == upload_keys(app, small) == []  # uploads go once imported


class _HeldServer:
    """An HTTP server on 127.0.0.1 whose answers wait until released (then 404)."""

    def __init__(self):
        self.release, self.asked = threading.Event(), threading.Event()
        held, asked = self.release, self.asked

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                asked.set()
                held.wait(timeout=120)
                self.send_error(404)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever)
        self.thread.start()

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()




def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (RQ's work horse runs the job in one)."""
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_an_import_whose_worker_is_killed_while_fetching_images_resumes_them(app, make_store, service_env,
                                                                            monkeypatch):
    import os
    import signal
    import subprocess
    import sys

    from app.config import ROOT

    store, held = make_store(), _HeldServer()
    env = {**os.environ, **service_env, "IMPORT_ALLOW_PRIVATE_URLS": "1", "IMPORT_LEASE_SECONDS": "1"}
    monkeypatch.setitem(app.config, "IMPORT_LEASE_SECONDS", 1)  # this process runs the sweep
    try:
        # Every product lands; then the images are fetched, and the first waits, so the worker is busy when it dies.
        token = start(app, store, _many(imports.CHUNK * 2, image_url=f"{held.url}/slow.png"))
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--queue", "imports"],
                                  cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            wait_until(held.asked.is_set, "the image phase to ask for an image")
            landed = job_state(app, store, token)
            assert landed.created_products == imports.CHUNK * 2 and landed.images_done == 0
        finally:
            for pid in [*_children(worker.pid), worker.pid]:  # the work horse (its own session) and the worker
                os.kill(pid, signal.SIGKILL)
            worker.wait()
        held.release.set()
        assert job_state(app, store, token).status == "running"  # nothing else will ever finish it

        def resumed():
            with as_store(app, store):
                return imports.sweep() == 1  # once its lease has lapsed

        wait_until(resumed, "the sweep to see the stale lease")
        flask_cli({**service_env, "IMPORT_ALLOW_PRIVATE_URLS": "1", "IMPORT_LEASE_SECONDS": "1"},
                  "worker", "--burst", "--queue", "imports")
    finally:
        held.close()
    job = job_state(app, store, token)
    assert (job.status, job.crashes) == ("done", 1)
    assert (job.images_total, job.images_done, job.images_failed) == (imports.CHUNK, imports.CHUNK, imports.CHUNK)
    # The products were not imported twice: every product was created once, none "updated".
    assert (job.created_products, job.updated_products, job.failed_products) == (imports.CHUNK * 2, 0, 0)
    assert job.processed_rows == job.total_rows == imports.CHUNK * 2
    assert len(catalog_of(app, store)) == imports.CHUNK * 2


def test_an_import_stopped_by_dying_workers_fails_visibly_and_is_retried_from_the_dashboard(
        app, merchant, service_env):
    browser, _, store = merchant
    token = start(app, store, _many(3))
    with as_store(app, store):  # as if its workers had died on it again and again
        db.session.execute(sa.update(ImportJob).where(ImportJob.token == token)
                           .values(crashes=imports.MAX_CRASHES + 1))
    work(service_env)
    job = job_state(app, store, token)
    assert job.status == "failed" and "stopped 4 times" in job.error and job.upload_key is not None
    page = f"/dashboard/{store.handle}/products/imports/{token}"
    shown = browser.get(page).get_data(as_text=True)
    assert "Retry the import" in shown and "stopped 4 times" in shown

    retried = browser.post(f"{page}/retry", csrf_from=page)
    assert retried.status_code == 302 and job_state(app, store, token).status == "queued"
    again = browser.post(f"{page}/retry", csrf_from=page)  # not failed any more: refused, nothing changed
    assert again.status_code == 409 and job_state(app, store, token).status == "queued"
    work(service_env)
    job = job_state(app, store, token)
    assert (job.status, job.created_products, job.error) == ("done", 3, "")
    assert "Retry the import" not in browser.get(page).get_data(as_text=True)


def test_stock_lowered_by_an_import_sends_the_low_stock_alert(app, make_store, make_account, service_env):
    from pathlib import Path

    owner = make_account()
    store = make_store(owner=owner)
    with as_store(app, store):
        product = catalog.create_product({"title": "Trail Socks", "price": "9", "sku": "SOCK-1",
                                          "low_stock_threshold": "5"}, actor=ACTOR)
        location = inventory.create_location("Warehouse")
        inventory.set_on_hand(product.variants[0].id, location.id, 20, reason="received", actor=ACTOR)
        handle = product.handle
    mail = Path(service_env["VAR_DIR"]) / "mail"
    before = set(mail.glob("*.eml")) if mail.is_dir() else set()
    job = import_file(app, service_env, store,
                      f"Handle,Title,Variant SKU,Variant Inventory Qty\n{handle},Trail Socks,SOCK-1,3\n".encode())
    assert job.status == "done" and job.updated_products == 1
    flask_cli(service_env, "worker", "--burst", "--queue", "notifications")
    sent = [path.read_text() for path in set(mail.glob("*.eml")) - before]
    assert any("Low stock: Trail Socks" in text and "down to 3 available" in text and owner.email in text
               for text in sent), sent


def test_a_product_past_the_variant_cap_is_refused_in_one_line_and_the_rest_imported(app, make_store, service_env):
    lines = ["Handle,Title,Option1 Name,Option1 Value,Variant SKU,Variant Price", "before,Before,Size,S,B-S,5.00"]
    lines += [f"huge,{'Huge' if n == 0 else ''},{'Size' if n == 0 else ''},V{n},H-{n},1.00" for n in range(2100)]
    lines += ["after,After,Size,S,A-S,6.00"]
    store = make_store()
    job = import_file(app, service_env, store, ("\n".join(lines) + "\n").encode())
    assert (job.status, job.created_products, job.failed_products, job.processed_rows) == ("done", 2, 1, 2102)
    assert job.report == [{"row": 2051, "handle": "huge", "message": "“huge” has 2,100 variants, more than the "
                           "2,048 a product can have (this row is variant 2,049); none of it was imported.",
                           "kind": "refused"}]
    assert sorted(catalog_of(app, store)) == ["after", "before"]


def test_a_product_at_the_variant_cap_is_imported_and_updated(app, make_store, service_env):
    def file(price: str) -> bytes:
        lines = ["Handle,Title,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Variant Price"]
        lines += [f"full,{'Full' if n == 0 else ''},{'Size' if n == 0 else ''},S{n // 64},"
                  f"{'Color' if n == 0 else ''},C{n % 64},{price}" for n in range(2048)]
        return ("\n".join(lines) + "\n").encode()

    store = make_store()
    assert import_file(app, service_env, store, file("1.00")).created_products == 1
    again = import_file(app, service_env, store, file("2.00"))
    assert (again.updated_products, again.failed_products, again.report) == (1, 0, [])
    variants = catalog_of(app, store)["full"]["variants"]
    assert len(variants) == 2048 and {v["price"] for v in variants} == {200}
