"""Small builders shared by the catalog tests."""
import io
import struct
import zlib
from pathlib import Path

from PIL import Image


def png_bytes(width: int = 32, height: int = 24, color=(200, 80, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def image_bytes(fmt: str = "PNG", width: int = 32, height: int = 24, mode: str = "RGB", color=(200, 80, 40),
                **options) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), color).save(out, fmt, **options)
    return out.getvalue()


def claiming_size(jpeg: bytes, width: int, height: int) -> bytes:
    """A baseline JPEG whose frame header (SOF0) claims another size: its
    scan data then ends long before the picture it promises."""
    at = jpeg.index(b"\xff\xc0")  # marker, length (2), precision (1), height (2), width (2)
    return jpeg[:at + 5] + struct.pack(">HH", height, width) + jpeg[at + 9:]


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_cut_short(width: int, height: int) -> bytes:
    """An 8-bit RGB PNG's signature, header and the first bytes of its pixel
    data (a chunk promising 64 KB): an upload cut off early."""
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + header + struct.pack(">I", 65536) + b"IDAT" + zlib.compress(bytes(4096))[:16]


def flat_png(width: int, height: int, *, bit_depth: int = 8, color_type: int = 2) -> bytes:
    """A complete, valid PNG of black pixels, compressed row by row as it is
    built: even a huge one takes kilobytes to make and to hold."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    row = bytes(1 + (width * channels * bit_depth + 7) // 8)  # filter byte 0, then zeros
    packer, idat = zlib.compressobj(9), bytearray()
    for _ in range(height):
        idat += packer.compress(row)
    idat += packer.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", bytes(idat)) + _chunk(b"IEND", b"")


def media_files(app) -> dict[str, int]:
    """Every file under the media root, with its size: to prove a refused write left none behind."""
    from app.media.storage import storage

    with app.app_context():
        root = Path(storage().root)
    return {str(path.relative_to(root)): path.stat().st_size for path in root.rglob("*") if path.is_file()}
