"""Small builders shared by the catalog tests."""
import io

from PIL import Image


def png_bytes(width: int = 32, height: int = 24, color=(200, 80, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()
