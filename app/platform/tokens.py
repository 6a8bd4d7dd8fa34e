"""Random tokens for cookies and mailed links; only their hashes are stored."""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,64}")


def new_token() -> tuple[str, str]:
    """A fresh token and the hash to store for it."""
    raw = secrets.token_urlsafe(32)
    return raw, digest(raw)


def digest(raw: str) -> str:
    # The token has 256 random bits, so a plain SHA-256 cannot be reversed by guessing.
    return hashlib.sha256(raw.encode()).hexdigest()


def well_formed(raw: str | None) -> bool:
    """Whether a token from a URL or cookie could be ours (anything else is not looked up)."""
    return bool(raw) and _SHAPE.fullmatch(raw) is not None


def now() -> datetime:
    return datetime.now().astimezone()


def in_seconds(seconds: int) -> datetime:
    return now() + timedelta(seconds=seconds)
