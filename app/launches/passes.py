"""Purchase passes: signed, time-limited tokens naming the store, the launch
and the shopper's place (a queue ticket or a draw entry).

A pass is the app's SECRET_KEY signature (itsdangerous, with a salt for
this purpose only) over {store, launch, kind, number, expiry}; nothing is
stored, so checking one costs no query. The storefront keeps the latest in
the `vitrine_pass` cookie; API clients send it as the X-Launch-Pass header.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

PASS_COOKIE = "vitrine_pass"
PASS_HEADER = "X-Launch-Pass"
SALT = "vitrine.launch-pass"
MAX_TOKEN = 400  # longer is not one of ours: not even decoded


@dataclass(frozen=True)
class Pass:
    store_id: int
    launch_id: int
    kind: str  # "q": a queue ticket; "d": a draw entry
    number: int  # the ticket number or the entry id
    expires_at: datetime


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue(store_id: int, launch_id: int, kind: str, number: int, expires_at: datetime) -> str:
    return _serializer().dumps({"s": int(store_id), "l": int(launch_id), "k": kind, "n": int(number),
                                "x": int(expires_at.timestamp())})


def read(token) -> Pass | None:
    """The pass a token carries, or None when it is not a pass we signed (whatever its expiry)."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN:
        return None
    try:
        data = _serializer().loads(token)
    except (BadSignature, ValueError, UnicodeError):
        return None
    if not isinstance(data, dict) or data.get("k") not in ("q", "d"):
        return None
    values = [data.get(key) for key in ("s", "l", "n", "x")]
    if not all(isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63 for value in values):
        return None
    store_id, launch_id, number, expires = values
    try:
        expires_at = datetime.fromtimestamp(expires, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None
    return Pass(store_id, launch_id, data["k"], number, expires_at)
