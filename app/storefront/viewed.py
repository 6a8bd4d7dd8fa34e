"""Recently viewed products: a short list of product ids in a cookie of the
shopper's browser (it needs no account, and says nothing the shopper did
not see). Anything in the cookie that is not such a list is ignored."""
from __future__ import annotations

COOKIE = "recently_viewed"
MAX_AGE = 30 * 24 * 3600
KEEP = 12


def from_cookie(raw: str) -> list[int]:
    ids = []
    for part in raw[:400].split("."):
        if part.isascii() and part.isdigit() and len(part) < 19 and int(part) not in ids:
            ids.append(int(part))
    return ids[:KEEP]


def to_cookie(ids: list[int]) -> str:
    return ".".join(str(product_id) for product_id in list(dict.fromkeys(ids))[:KEEP])
