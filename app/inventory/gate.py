"""The flash-sale gate: for a hot variant, a Redis counter of the units
still to be had admits at most that many requests before they reach
PostgreSQL; everyone else is told "sold out" at once.

PostgreSQL stays the authority: an admitted request still takes its units
with the conditional UPDATE (app.inventory.reservations), so the counter
can only turn people away, never oversell. It is rebuilt from PostgreSQL
whenever it is missing (flushed, Redis restarted) and at least every
COUNTER_TTL seconds, which bounds how long a drifted counter can send
shoppers away while units remain. Released units are put back (after
commit). While Redis is away the gate admits everyone: PostgreSQL decides.

A variant is hot when its merchant marks it (a flash sale) or, for a while,
when reservation conflicts on it pass a threshold.
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis
import sqlalchemy as sa

from app.catalog.models import Variant
from app.extensions import db, get_redis, redis_breaker
from tenants.context import require_store

PREFIX = "vitrine:gate:"
COUNTER_TTL = 30  # seconds: how long a counter is trusted before it is read again from PostgreSQL
AUTO_HOT_CONFLICTS = 20  # refusals in a minute that make a variant hot by itself
AUTO_HOT_SECONDS = 15 * 60
WARM_SECONDS = 300  # a counter loaded before a launch lasts past its start, then is read again as usual
MARKS_TTL = 5  # seconds a process trusts its list of a store's flash-sale variants
_marks: dict[int, tuple[float, frozenset[int]]] = {}

# Take `q` units if the counter has them: 1 taken, 0 refused, -1 no counter (rebuild it).
_ADMIT = """
local left = redis.call('get', KEYS[1])
if not left then return -1 end
if tonumber(left) >= tonumber(ARGV[1]) then redis.call('decrby', KEYS[1], ARGV[1]) return 1 end
return 0
"""
# Put units back, only into a counter that exists (a missing one is rebuilt from PostgreSQL anyway).
_GIVE_BACK = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('incrby', KEYS[1], ARGV[1]) end return 0"


def _key(store_id: int, variant_id: int, part: str = "units") -> str:
    return f"{PREFIX}{int(store_id)}:{int(variant_id)}:{part}"


class GateClosed(Exception):
    """The counter has no units for this request: sold out, answered without PostgreSQL."""

    def __init__(self, variant_id: int):
        super().__init__(f"variant {variant_id} is sold out")
        self.variant_id = variant_id


def is_hot(variant_id: int) -> bool:
    """Marked for a flash sale by the merchant, or made hot by conflicts a moment ago."""
    store_id = require_store().id
    if variant_id in _flash_sale_variants(store_id):
        return True
    return bool(redis_breaker().call(get_redis().exists, _key(store_id, variant_id, "hot"), default=0))


def _flash_sale_variants(store_id: int) -> frozenset[int]:
    """The store's marked variants, read at most every MARKS_TTL seconds per process (no query per add)."""
    now = time.monotonic()
    found = _marks.get(store_id)
    if found is None or found[0] < now:
        ids = frozenset(db.session.scalars(sa.select(Variant.id).where(Variant.flash_sale)))
        found = _marks[store_id] = (now + MARKS_TTL, ids)
    return found[1]


@contextmanager
def passage(variant_id: int, units: int) -> Iterator[bool]:
    """Around a request for `units` more of a variant: for a hot one, take
    them from the counter first (GateClosed when it has none); if the request
    then fails, the counter is read again from PostgreSQL, which knows what
    really happened. Yields whether the gate was in the way."""
    if units <= 0 or not is_hot(variant_id):
        yield False
        return
    if not admit(variant_id, units):
        raise GateClosed(variant_id)
    try:
        yield True
    except BaseException:
        forget(require_store().id, variant_id)
        raise


def admit(variant_id: int, quantity: int) -> bool:
    """May a request for `quantity` more units of a hot variant go on to PostgreSQL?"""
    store_id = require_store().id
    key = _key(store_id, variant_id)
    breaker = redis_breaker()
    if not breaker.available():
        return True
    try:
        connection = get_redis()
        found = connection.eval(_ADMIT, 1, key, quantity)
        if found == -1:
            connection.set(key, _available(variant_id), ex=COUNTER_TTL, nx=True)
            found = connection.eval(_ADMIT, 1, key, quantity)
    except redis.RedisError:
        breaker.failed()
        return True
    return found != 0


def give_back(store_id: int, variant_id: int, quantity: int) -> None:
    """Released units return to the counter (run after the release committed)."""
    if quantity > 0:
        redis_breaker().call(get_redis().eval, _GIVE_BACK, 1, _key(store_id, variant_id), quantity)


def forget(store_id: int, variant_id: int) -> None:
    """The counter is wrong (stock was counted, or PostgreSQL refused what it admitted): read it again."""
    redis_breaker().call(get_redis().delete, _key(store_id, variant_id))


def conflict(variant_id: int) -> None:
    """A reservation was refused for want of stock: enough of them in a minute make the variant hot."""
    store_id = require_store().id
    key = _key(store_id, variant_id, "conflicts")
    try:
        pipe = get_redis().pipeline()
        pipe.set(key, 0, ex=60, nx=True)  # a window of a minute from the first conflict
        pipe.incr(key)
        _, count = pipe.execute()
        if count >= AUTO_HOT_CONFLICTS:
            get_redis().set(_key(store_id, variant_id, "hot"), 1, ex=AUTO_HOT_SECONDS)
    except redis.RedisError:
        redis_breaker().failed()


def warm(variant_ids: list[int], seconds: int = WARM_SECONDS) -> None:
    """Before a launch: make its variants hot for `seconds` and load their
    counters, so the first requests find them and none reaches PostgreSQL
    once it is sold out."""
    store_id = require_store().id
    for variant_id in variant_ids:
        breaker = redis_breaker()
        breaker.call(get_redis().set, _key(store_id, variant_id), _available(variant_id), ex=seconds)
        breaker.call(get_redis().set, _key(store_id, variant_id, "hot"), 1, ex=seconds)


def _available(variant_id: int) -> int:
    """Units a shopper could get now: free at active locations, plus those in
    lapsed holds (the next shortage gives them back, sweep or not)."""
    from app.inventory.models import InventoryLevel, Location, Reservation

    active = sa.select(Location.id).where(Location.active)
    free = sa.select(sa.func.coalesce(sa.func.sum(InventoryLevel.on_hand - InventoryLevel.reserved), 0)).where(
        InventoryLevel.variant_id == variant_id, InventoryLevel.location_id.in_(active))
    lapsed = sa.select(sa.func.coalesce(sa.func.sum(Reservation.quantity), 0)).where(
        Reservation.variant_id == variant_id, Reservation.expires_at <= sa.func.now(),
        Reservation.location_id.in_(active))
    return max(0, int(db.session.scalar(sa.select(free.scalar_subquery() + lapsed.scalar_subquery()))))


def mark(variant_id: int, on: bool, actor: str) -> None:
    """The merchant marks a variant for a flash sale (or not). Every web
    process sees it within MARKS_TTL seconds; the counter starts afresh."""
    from app.effects import after_commit
    from app.inventory.service import InventoryError, InventoryErrorCode
    from app.store.service import record

    store_id = require_store().id
    title = db.session.scalar(sa.select(Variant.sku).where(Variant.id == variant_id))
    found = db.session.execute(sa.update(Variant).where(Variant.id == variant_id).values(flash_sale=on)
                               .returning(Variant.id)).first()
    if found is None:
        db.session.rollback()
        raise InventoryError(InventoryErrorCode.NOT_FOUND, "No such variant in this store.", status=404)
    record(actor, "inventory.flash_sale", f"Flash sale {'on' if on else 'off'} for variant {title or variant_id}")
    _marks.pop(store_id, None)
    after_commit(forget, store_id, variant_id)
    db.session.commit()
