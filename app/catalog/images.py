"""Product images: checked by content (not by name), stored with thumbnails."""
from __future__ import annotations

import hashlib
import io
import warnings

from PIL import Image, ImageOps

from app.media.storage import storage

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"),
           "WEBP": ("image/webp", "webp"), "GIF": ("image/gif", "gif")}
THUMBNAIL_SIZES = (160, 640)


class ImageRejected(ValueError):
    pass


def inspect(data: bytes) -> tuple[str, int, int]:
    """(format, width, height) of an acceptable image, or ImageRejected."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRejected(f"That image is {len(data) / 1_048_576:.1f} MB; the limit is 10 MB.")
    if not data:
        raise ImageRejected("That file is empty.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt, (width, height) = image.format, image.size
                if width * height > MAX_PIXELS:
                    raise ImageRejected("That image has too many pixels (over 50 megapixels).")
                image.verify()
    except ImageRejected:
        raise
    except Exception:
        raise ImageRejected("That file is not an image we can use: upload a JPEG, PNG, WebP or GIF.") from None
    if fmt not in FORMATS:
        raise ImageRejected(f"{fmt} images are not supported: upload a JPEG, PNG, WebP or GIF.")
    return fmt, width, height


def store_image(store_id: int, data: bytes) -> dict:
    """Validate and store an image and its thumbnails; returns the columns for ProductImage."""
    fmt, width, height = inspect(data)
    content_type, extension = FORMATS[fmt]
    digest = hashlib.sha256(data).hexdigest()[:32]
    key = f"{store_id}/{digest}.{extension}"
    files = storage()
    files.save(key, data)
    with Image.open(io.BytesIO(data)) as image:
        image = ImageOps.exif_transpose(image).convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
        for size in THUMBNAIL_SIZES:
            thumb = image.copy()
            thumb.thumbnail((size, size))
            out = io.BytesIO()
            thumb.save(out, "WEBP", quality=82)
            files.save(thumbnail_key(key, size), out.getvalue())
    return {"storage_key": key, "content_type": content_type, "width": width, "height": height,
            "byte_size": len(data)}


def thumbnail_key(key: str, size: int) -> str:
    stem = key.rsplit(".", 1)[0]
    return f"{stem}_{size}.webp"


def url(key: str, size: int | None = None) -> str:
    return "/media/" + (thumbnail_key(key, size) if size else key)
