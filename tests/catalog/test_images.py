"""Product images: whatever is uploaded, a clear 422 or a stored image with
its thumbnails; never a 5xx, never a file left behind, and never more memory
than a documented bound."""
import io
import json
import subprocess
import sys

import pytest
import redis
import sqlalchemy as sa
from PIL import Image

from app.catalog import product_images
from app.catalog.images import thumbnail_key
from app.catalog.models import Product, ProductImage
from app.config import ROOT
from app.extensions import db
from app.media.storage import storage
from tenants.context import StoreUnavailable
from tenants.moves import freeze_key
from tests.admin.test_catalog_dashboard import _count, _new_product, _product_id
from tests.catalog.helpers import (
    claiming_size, flat_png, image_bytes, media_files, png_bytes, png_cut_short,
)
from tests.conftest import as_store

NOT_USABLE = "not an image we can use"
TOO_MANY_PIXELS = "the limit is 25 megapixels"


def _truncated(data: bytes) -> bytes:
    return data[: len(data) * 2 // 3]


def _photo(fmt: str) -> bytes:
    """A 300×200 gradient: enough pixel data that a cut lands in it, past the header."""
    out = io.BytesIO()
    Image.radial_gradient("L").resize((300, 200)).convert("RGB").save(out, fmt)
    return out.getvalue()


def _corrupt_png() -> bytes:
    data = bytearray(_photo("PNG"))
    at = data.index(b"IDAT") + 20
    data[at:at + 32] = bytes(range(32))  # scrambled pixel data: the chunk's checksum no longer matches
    return bytes(data)


BAD_IMAGES = {
    # The reviewer's case: a header claiming 7000×7000 with the rest missing.
    "truncated JPEG claiming 7000x7000": (lambda: _truncated(claiming_size(_photo("JPEG"), 7000, 7000)),
                                          TOO_MANY_PIXELS),
    "PNG cut short claiming 7000x7000": (lambda: png_cut_short(7000, 7000), TOO_MANY_PIXELS),
    "PNG cut short, one pixel too many": (lambda: png_cut_short(5000, 5001), TOO_MANY_PIXELS),
    "PNG cut short, a side too long": (lambda: png_cut_short(20000, 10), TOO_MANY_PIXELS),
    "PNG at the limit, cut short": (lambda: png_cut_short(5000, 5000), NOT_USABLE),
    "truncated JPEG claiming 4000x3000": (lambda: _truncated(claiming_size(_photo("JPEG"), 4000, 3000)),
                                          NOT_USABLE),
    "truncated small JPEG": (lambda: _truncated(_photo("JPEG")), NOT_USABLE),
    "truncated small PNG": (lambda: _truncated(_photo("PNG")), NOT_USABLE),
    "truncated small GIF": (lambda: _truncated(_photo("GIF")), NOT_USABLE),
    "truncated small WebP": (lambda: _truncated(_photo("WEBP")), NOT_USABLE),
    # 20000×20000 1-bit: 49 KB that would decode to 400 MB.
    "decompression bomb": (lambda: flat_png(20000, 20000, bit_depth=1, color_type=0), TOO_MANY_PIXELS),
    "corrupt PNG": (_corrupt_png, NOT_USABLE),
    "BMP": (lambda: image_bytes("BMP", 32, 24), NOT_USABLE),
}


@pytest.fixture
def product_page(app, merchant):
    browser, _, store = merchant
    product_id = _product_id(_new_product(browser, store))
    return browser, store, product_id, f"/dashboard/{store.handle}/products/{product_id}"


def _upload(browser, path, data: bytes, alt: str = "Front"):
    return browser.upload(f"{path}/images", {"alt": alt}, {"image": (data, "photo.jpg")}, csrf_from=path)


@pytest.mark.parametrize("case", BAD_IMAGES)
def test_an_image_we_cannot_use_is_a_422_that_stores_nothing(app, product_page, case):
    browser, store, _, path = product_page
    make, message = BAD_IMAGES[case]
    before = media_files(app)
    response = _upload(browser, path, make())
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert _count(app, store, ProductImage) == 0
    assert media_files(app) == before


def test_alt_text_is_checked_before_anything_is_stored(app, product_page):
    browser, store, _, path = product_page
    before = media_files(app)
    response = _upload(browser, path, png_bytes(color=(1, 2, 3)), alt="x" * 513)
    assert response.status_code == 422 and "at most 512" in response.get_data(as_text=True)
    assert _count(app, store, ProductImage) == 0
    assert media_files(app) == before


def test_a_write_refused_by_a_freeze_leaves_no_file(app, product_page):
    """A tier move freezes the store between the image's decoding and its
    row's first write: the refusal comes before any file is written."""
    _, store, product_id, _ = product_page
    frozen = redis.Redis.from_url(app.config["REDIS_URL"])
    before = media_files(app)
    with as_store(app, store):
        product = db.session.get(Product, (store.id, product_id))
        frozen.set(freeze_key(store.id), "1", ex=60)
        try:
            with pytest.raises(StoreUnavailable):
                product_images.add_image(product, png_bytes(color=(4, 5, 6)))
        finally:
            frozen.delete(freeze_key(store.id))
            db.session.rollback()
    assert _count(app, store, ProductImage) == 0
    assert media_files(app) == before


def _stripes(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue (half transparent, with alpha); the
    bottom quarter green: where each lands in a thumbnail shows the image was
    shrunk (and turned) whole."""
    image = Image.new("RGBA", (width, height), (255, 0, 0, 255))
    image.paste((0, 0, 255, 128), (width // 2, 0, width, height))
    image.paste((0, 160, 0, 255), (0, height * 3 // 4, width, height))
    return image if mode == "RGBA" else image.convert(mode)


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _rotated_jpeg() -> bytes:
    """Stored sideways (turned a quarter anticlockwise) with EXIF orientation
    6: "turn 90° clockwise to show"."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return _encode(_stripes(3000, 1500).transpose(Image.Transpose.ROTATE_90), "JPEG", quality=90, exif=exif)


def _close(pixel, expected) -> bool:
    return all(abs(a - b) <= 40 for a, b in zip(pixel, expected))


@pytest.mark.parametrize("name, make, mode", [
    ("large JPEG", lambda: _encode(_stripes(3000, 1500), "JPEG", quality=90), "RGB"),
    ("large PNG with alpha", lambda: _encode(_stripes(3000, 1500, "RGBA"), "PNG"), "RGBA"),
    ("large palette GIF", lambda: _encode(_stripes(3000, 1500).convert("P"), "GIF"), "RGB"),
    ("large CMYK JPEG", lambda: _encode(_stripes(3000, 1500).convert("CMYK"), "JPEG"), "RGB"),
    ("sideways JPEG", _rotated_jpeg, "RGB"),
])
def test_thumbnails_show_the_whole_image_the_right_way_up(app, product_page, name, make, mode):
    browser, store, _, path = product_page
    assert _upload(browser, path, make()).status_code == 302
    with as_store(app, store):
        key = db.session.scalar(sa.select(ProductImage.storage_key))
        thumbs = {n: Image.open(io.BytesIO(storage().read(thumbnail_key(key, n)))) for n in (640, 160)}
    for box, thumb in thumbs.items():
        assert thumb.format == "WEBP" and thumb.mode == mode
        assert thumb.size == (box, box // 2), name
        w, h = thumb.size
        assert _close(thumb.getpixel((w // 4, h // 4)), (255, 0, 0)), (name, box)
        assert _close(thumb.getpixel((w * 3 // 4, h // 4)), (0, 0, 255, 128)), (name, box)
        assert _close(thumb.getpixel((w // 4, h * 7 // 8)), (0, 160, 0)), (name, box)


def test_a_small_image_is_stored_with_its_thumbnails(app, product_page):
    browser, store, _, path = product_page
    data = image_bytes("PNG", 40, 30, mode="RGBA", color=(0, 0, 0, 0))
    assert _upload(browser, path, data).status_code == 302
    with as_store(app, store):
        row = db.session.execute(sa.select(ProductImage.storage_key, ProductImage.width, ProductImage.height,
                                           ProductImage.byte_size)).one()
        files = storage()
        assert files.read(row.storage_key) == data
        thumbs = [Image.open(io.BytesIO(files.read(thumbnail_key(row.storage_key, n)))) for n in (160, 640)]
    assert [(t.size, t.mode, t.getpixel((5, 5))) for t in thumbs] == [((40, 30), "RGBA", (0, 0, 0, 0))] * 2
    assert (row.width, row.height, row.byte_size) == (40, 30, len(data))
    assert row.storage_key.startswith(f"{store.id}/")


# --- memory ---------------------------------------------------------------

# Decoding runs in a fresh interpreter so its peak resident size is this
# one image's alone. The peak is the kernel's high-water mark (VmHWM), reset
# just before: getrusage's ru_maxrss would carry over this test process's
# own peak, which a child inherits across fork and exec.
MEASURE = """
import json, re, sys, tempfile
from flask import Flask
from app.catalog.images import ImageRejected, store_image

def kb(field):
    return int(re.search(field + r":\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))

data = open(sys.argv[1], "rb").read()
flask_app = Flask("measure")
flask_app.config["MEDIA_ROOT"] = tempfile.mkdtemp()
with flask_app.app_context():
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # the high-water mark starts again from the current size
    before_kb = kb("VmRSS")
    try:
        store_image(1, data)
        outcome = "stored"
    except ImageRejected:
        outcome = "refused"
    peak_kb = kb("VmHWM")
print(json.dumps({"outcome": outcome, "growth_mb": (peak_kb - before_kb) / 1024}))
"""

# What one upload may add to a process: one full-size decode at 4 bytes a
# pixel (a 25-megapixel PNG: 95 MiB), and at most 40 MiB for the rest (codec
# libraries loaded on first use, bands, thumbnails, the file's bytes). A
# baseline JPEG decodes at a reduced scale; a progressive one needs libjpeg's
# whole-image coefficient buffer, still within the PNG bound.
PNG_BOUND_MB = 4 * 25_000_000 / 2**20 + 40
JPEG_BOUND_MB = 24
REFUSED_BOUND_MB = 8


def _measure(tmp_path, data: bytes) -> dict:
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    done = subprocess.run([sys.executable, "-c", MEASURE, str(path)], cwd=ROOT, capture_output=True, text=True,
                          check=True, timeout=300)
    return json.loads(done.stdout)


def _large_jpeg(**options) -> bytes:
    image = Image.linear_gradient("L").resize((5000, 5000))
    return _encode(Image.merge("RGB", (image, image.transpose(Image.Transpose.ROTATE_90), image)), "JPEG",
                   quality=85, **options)


@pytest.mark.parametrize("name, make, bound_mb", [
    ("5000x5000 RGB PNG", lambda: flat_png(5000, 5000), PNG_BOUND_MB),
    ("5000x5000 RGBA PNG", lambda: flat_png(5000, 5000, color_type=6), PNG_BOUND_MB),
    ("5000x5000 JPEG", _large_jpeg, JPEG_BOUND_MB),
    ("5000x5000 progressive JPEG", lambda: _large_jpeg(progressive=True), PNG_BOUND_MB),
])
def test_a_large_allowed_image_decodes_within_the_memory_bound(tmp_path, name, make, bound_mb):
    measured = _measure(tmp_path, make())
    assert measured["outcome"] == "stored", name
    assert measured["growth_mb"] < bound_mb, (name, measured)


def test_a_7000x7000_claim_is_refused_before_decoding(tmp_path):
    measured = _measure(tmp_path, flat_png(7000, 7000))  # 140 KB that would decode to 196 MB
    assert measured["outcome"] == "refused" and measured["growth_mb"] < REFUSED_BOUND_MB, measured
