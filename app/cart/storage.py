"""Carts in Redis: one hash per cart, a field per line (keyed by variant id).

A guest cart lives 48 hours from its last activity, a customer's 30 days.
Changes to one cart are serialised by a short lock, so a second add while
the first is still in flight is refused (409) rather than raced.
"""
from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import redis

from app.cart.errors import CartError, CartErrorCode
from app.extensions import RedisUnavailable, get_redis, redis_breaker

PREFIX = "vitrine:cart:"
GUEST_TTL = 48 * 3600
CUSTOMER_TTL = 30 * 24 * 3600
LOCK_MS = 10_000  # longer than any one change takes; a crashed holder's lock lapses by itself
# Delete the lock only if it is still ours (it may have lapsed and been taken since).
_UNLOCK = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


@dataclass(frozen=True)
class Owner:
    """Whose cart: a guest (a random id their signed cookie carries) or a customer of the store."""

    store_id: int
    kind: str  # "guest" or "customer"
    ident: str

    @classmethod
    def guest(cls, store_id: int, ident: str) -> Owner:
        return cls(int(store_id), "guest", ident)

    @classmethod
    def customer(cls, store_id: int, customer_id: int) -> Owner:
        return cls(int(store_id), "customer", str(int(customer_id)))

    @property
    def key(self) -> str:
        return f"{PREFIX}{self.store_id}:{self.kind[0]}:{self.ident}"

    @property
    def holder(self) -> str:
        """Who holds the line's stock in the reservations table."""
        return f"cart:{self.kind[0]}:{self.ident}"

    @property
    def ttl(self) -> int:
        return CUSTOMER_TTL if self.kind == "customer" else GUEST_TTL


def new_guest_ident() -> str:
    return secrets.token_urlsafe(16)


@dataclass(frozen=True)
class Line:
    variant_id: int
    quantity: int
    price: int  # the unit price when it was added, in minor units: the cart says when it changed
    added_at: int  # unix seconds, orders the cart's lines

    @classmethod
    def parse(cls, variant_id: str, raw: str) -> Line | None:
        try:
            data = json.loads(raw)
            return cls(int(variant_id), int(data["quantity"]), int(data["price"]), int(data["added_at"]))
        except (ValueError, KeyError, TypeError):
            return None  # written by another version: dropped rather than failing the cart


def _redis() -> redis.Redis:
    """The connection, or RedisUnavailable (a 503) while the breaker is open:
    a cart cannot be kept anywhere else."""
    if not redis_breaker().available():
        raise RedisUnavailable("Redis is unreachable")
    return get_redis()


def _calling(fn, *args):
    try:
        return fn(*args)
    except redis.RedisError:
        redis_breaker().failed()
        raise


def load(owner: Owner) -> dict[int, Line]:
    raw = _calling(_redis().hgetall, owner.key)
    lines = (Line.parse(variant_id, value) for variant_id, value in raw.items())
    return {line.variant_id: line for line in sorted(filter(None, lines), key=lambda line: line.added_at)}


def item_count(owner: Owner) -> int:
    return sum(line.quantity for line in load(owner).values())


def save_line(owner: Owner, line: Line) -> None:
    value = json.dumps({key: value for key, value in asdict(line).items() if key != "variant_id"})
    pipe = _redis().pipeline()
    pipe.hset(owner.key, str(line.variant_id), value)
    pipe.expire(owner.key, owner.ttl)
    _calling(pipe.execute)


def drop_line(owner: Owner, variant_id: int) -> None:
    _calling(_redis().hdel, owner.key, str(variant_id))


def drop(owner: Owner) -> None:
    _calling(_redis().delete, owner.key)


def touch(owner: Owner) -> None:
    """Activity: the cart lives its full time again from now."""
    _calling(_redis().expire, owner.key, owner.ttl)


def now() -> int:
    return int(time.time())


@contextmanager
def changing(owner: Owner) -> Iterator[None]:
    """Hold the cart's change lock, or refuse with 409 when another change is in flight."""
    token = secrets.token_hex(8)
    lock = owner.key + ":lock"
    if not _calling(lambda: _redis().set(lock, token, px=LOCK_MS, nx=True)):
        raise CartError(CartErrorCode.BUSY, "Your cart is being updated by another request. Try again in a moment.",
                        status=409)
    try:
        yield
    finally:
        try:
            _redis().eval(_UNLOCK, 1, lock, token)
        except (redis.RedisError, RedisUnavailable):
            pass  # the lock lapses by itself
