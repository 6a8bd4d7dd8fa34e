"""Product images: checked by content (not by name), decoded in bounded
memory, and stored with their thumbnails only once all of that has worked.

Memory: the size is checked from the header before any pixel is decoded.
A JPEG is then decoded at a reduced scale (libjpeg's DCT scaling), never
larger than it needs to be for the 640 px thumbnail (a progressive one still
makes libjpeg buffer every coefficient: about 3 bytes a pixel). Other
formats need one full-size decode (4 bytes a pixel for RGB and RGBA, 1 for
palette and grey): at the 25-megapixel limit that is 95 MiB, and nothing
else of that size is allocated: conversion and reduction run band by band
(_shrink), and every later step works on the small image. Measured peaks
are in tests/catalog/test_images.py.
"""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

from PIL import Image

from app.media.storage import storage

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 25_000_000  # Shopify's limit; it also bounds the full-size decode (above)
MAX_SIDE = 16_384  # however narrow the image, a band of it stays small
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"),
           "WEBP": ("image/webp", "webp"), "GIF": ("image/gif", "gif")}
THUMBNAIL_SIZES = (160, 640)
BAND_PIXELS = 1 << 18  # pixels converted at a time while shrinking: about a MB

NOT_USABLE = "That file is not an image we can use: upload a JPEG, PNG, WebP or GIF."  # damaged, cut short, other
TOO_MANY_PIXELS = (f"That image has too many pixels: the limit is {MAX_PIXELS // 1_000_000} megapixels, "
                   f"and {MAX_SIDE:,} pixels on either side.")

# EXIF orientation -> what turns the stored pixels the way the camera was held.
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
            4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
            6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE, 8: Image.Transpose.ROTATE_90}
_KEY_RE = re.compile(r"([1-9][0-9]{0,17})/([0-9a-f]{32})(?:\.(%s)|_(%s)\.webp)" % (
    "|".join(extension for _, extension in FORMATS.values()), "|".join(map(str, THUMBNAIL_SIZES))))


class ImageRejected(ValueError):
    pass


@dataclass(frozen=True)
class PreparedImage:
    """A decoded, checked image, not yet stored."""

    columns: dict  # for ProductImage: storage_key, content_type, width, height, byte_size
    files: dict[str, bytes]  # storage key -> bytes: the original and its thumbnails


@dataclass(frozen=True)
class MediaKey:
    store_id: int
    key: str
    originals: tuple[str, ...]  # the original's key, or the keys a thumbnail's original may have


def inspect(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) of an acceptable image, from its header and
    chunk checksums alone (no pixel is decoded); or ImageRejected."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRejected(f"That image is {len(data) / 1_048_576:.1f} MB; the limit is 10 MB.")
    if not data:
        raise ImageRejected("That file is empty.")
    try:
        with Image.open(io.BytesIO(data), formats=tuple(FORMATS)) as image:  # no other parser sees the bytes
            fmt, (width, height) = image.format, image.size
            if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
                raise ImageRejected(TOO_MANY_PIXELS)
            image.verify()
    except ImageRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # Pillow's own, far larger limit
        raise ImageRejected(TOO_MANY_PIXELS) from None
    except Exception:
        raise ImageRejected(NOT_USABLE) from None
    return fmt, width, height


def prepare_image(store_id: int, data: bytes) -> PreparedImage:
    """Check, decode and make the thumbnails of an image, all in memory."""
    fmt, width, height = inspect(data)
    try:
        thumbnails = _thumbnails(data)
    except Exception:  # truncated or corrupt past the header, out of memory: the upload's fault, a 422
        raise ImageRejected(NOT_USABLE) from None
    content_type, extension = FORMATS[fmt]
    key = f"{store_id}/{hashlib.sha256(data).hexdigest()[:32]}.{extension}"
    files = {key: data, **{thumbnail_key(key, size): body for size, body in thumbnails.items()}}
    return PreparedImage({"storage_key": key, "content_type": content_type, "width": width, "height": height,
                          "byte_size": len(data)}, files)


def save_files(prepared: PreparedImage) -> list[str]:
    """Store what is not stored yet (keys are content hashes: a file already
    there has these very bytes); returns the keys this call wrote. If one
    write fails, those written before it are removed again."""
    files, written = storage(), []
    try:
        for key, body in prepared.files.items():
            if not files.exists(key):
                files.save(key, body)
                written.append(key)
    except BaseException:
        discard(written)
        raise
    return written


def discard(keys: list[str]) -> None:
    files = storage()
    for key in keys:
        files.delete(key)


def store_image(store_id: int, data: bytes) -> dict:
    """Validate and store an image and its thumbnails; returns the columns for ProductImage."""
    prepared = prepare_image(store_id, data)
    save_files(prepared)
    return prepared.columns


def _thumbnails(data: bytes) -> dict[int, bytes]:
    """WebP thumbnails by size. The decoded full-size image is freed as soon
    as it is shrunk; everything after works on a copy under 2560 px a side."""
    target = max(THUMBNAIL_SIZES)
    image = Image.open(io.BytesIO(data), formats=tuple(FORMATS))
    try:
        image.draft(None, (target, target))  # JPEG: decode at 1/2, 1/4 or 1/8 scale, still >= target
        image.load()  # raises on truncated or corrupt data
        upright = _UPRIGHT.get(_orientation(image))
        small = _shrink(image, "RGBA" if _has_alpha(image) else "RGB", target)
    finally:
        image.close()  # frees the pixels (leaving a `with` block would only close the file)
    if upright is not None:
        small = small.transpose(upright)
    thumbnails = {}
    for size in sorted(THUMBNAIL_SIZES, reverse=True):
        small.thumbnail((size, size))  # in place: each size is made from the one before
        out = io.BytesIO()
        small.save(out, "WEBP", quality=82)
        thumbnails[size] = out.getvalue()
    return thumbnails


def _shrink(image: Image.Image, mode: str, target: int) -> Image.Image:
    """`image` in `mode`, reduced by a whole factor that keeps its longer
    side at least twice `target` (the final resize then stays smooth). Done
    band by band because converting the whole image (palette to RGB, or RGBA
    to the premultiplied form reduce() needs) would copy it at full size."""
    width, height = image.size
    factor = max(1, max(width, height) // (2 * target))
    if factor == 1:
        return image.convert(mode)
    rows = factor * max(1, BAND_PIXELS // (width * factor))
    shrunk = Image.new(mode, (-(-width // factor), -(-height // factor)))
    for top in range(0, height, rows):
        band = image.crop((0, top, width, min(height, top + rows)))
        shrunk.paste(band.convert(mode).reduce(factor), (0, top // factor))
    return shrunk


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except Exception:  # a damaged EXIF block costs the rotation, not the upload
        return 1


def thumbnail_key(key: str, size: int) -> str:
    stem = key.rsplit(".", 1)[0]
    return f"{stem}_{size}.webp"


def parse_key(key: str) -> MediaKey | None:
    """A key in the shape store_image makes (`<store id>/<hash>.<ext>` or a
    `_160.webp` / `_640.webp` thumbnail of one), or None for anything else."""
    match = _KEY_RE.fullmatch(key)
    if match is None:
        return None
    store, digest, extension, _ = match.groups()
    extensions = [extension] if extension else [ext for _, ext in FORMATS.values()]
    return MediaKey(int(store), key, tuple(f"{store}/{digest}.{ext}" for ext in extensions))


def url(key: str, size: int | None = None) -> str:
    return "/media/" + (thumbnail_key(key, size) if size else key)
