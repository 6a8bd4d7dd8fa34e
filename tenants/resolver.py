"""Host -> store resolution with two cache levels.

Each process keeps a small in-memory map (the hot path: a dict lookup), in
front of a shared Redis cache, in front of the directory. Any change to a
domain or a placement calls `invalidate()`: it bumps the Redis cache epoch
(older entries become unreachable) and publishes on a channel that every
process listens to, so in-memory maps are dropped at once rather than at
the end of their TTL.

Redis is only a cache here: while it is away, hosts resolve from the
in-memory map and the directory, and in-memory entries live out their TTL
(STORE_CACHE_TTL) since no invalidation can reach them. A custom domain
answers only once it is verified.
"""
from __future__ import annotations

import json
import os
import re
import threading
import time

import redis
import sqlalchemy as sa

from app.breaker import Breaker
from tenants.context import Placement

CHANNEL = "vitrine:directory:changed"
EPOCH_KEY = "vitrine:hosts:epoch"
REDIS_TTL = 300
NEGATIVE_TTL = 5.0
MAX_LOCAL_HOSTS = 10_000
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_UNREACHABLE = object()


class BadHost(ValueError):
    """The Host header is not a hostname we could ever serve."""


def normalize_host(raw: str | None) -> str:
    """Lower-case hostname without port or trailing dot; BadHost if malformed."""
    host = (raw or "").strip().lower()
    if ":" in host:
        host, _, port = host.rpartition(":")
        if not port.isdigit() or len(port) > 5:
            raise BadHost(raw)
    host = host.rstrip(".")
    if not host or len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
        raise BadHost(raw)
    return host


_LOOKUP = sa.text("""
    SELECT s.id, s.handle, s.name, s.currency, s.tier, s.db_key, s.schema_name AS schema, s.status, s.locale
    FROM domains d JOIN stores s ON s.id = d.store_id WHERE d.hostname = :host AND d.status = 'verified'
    UNION ALL
    SELECT s.id, s.handle, s.name, s.currency, s.tier, s.db_key, s.schema_name AS schema, s.status, s.locale
    FROM stores s WHERE s.handle = :handle
    LIMIT 1
""")


class HostResolver:
    def __init__(self, engine: sa.Engine, redis_client: redis.Redis, platform_host: str, ttl: float,
                 breaker: Breaker):
        self._engine = engine
        self._redis = redis_client
        self._breaker = breaker
        self._platform_suffix = "." + platform_host
        self._ttl = ttl
        self._local: dict[str, tuple[float, Placement | None]] = {}
        self._generation = 0  # bumped by every invalidation
        self._listening_pid: int | None = None
        self._lock = threading.Lock()

    def resolve(self, host: str) -> Placement | None:
        """The store answering on a normalized `host`, or None."""
        self._listen()
        hit = self._local.get(host)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        generation = self._generation
        placement = self._from_redis_or_directory(host) if self._breaker.available() else _UNREACHABLE
        if placement is _UNREACHABLE:
            placement = self.lookup_directory(host)
        # A lookup that raced with an invalidation may have read the old
        # placement: answer with it this once, but do not keep it. Unknown
        # hosts are cached only in Redis, so junk Host headers cannot grow this map.
        if generation == self._generation and placement is not None:
            if len(self._local) >= MAX_LOCAL_HOSTS:
                self._local.clear()
            self._local[host] = (time.monotonic() + self._ttl, placement)
        return placement

    def invalidate(self) -> None:
        """Forget every cached host, in this process and all others. Raises
        redis.RedisError when Redis is away: the other processes could not
        be told (callers needing that refuse the change before making it)."""
        self._forget_local()
        self._redis.incr(EPOCH_KEY)
        self._redis.publish(CHANNEL, "*")

    def _forget_local(self) -> None:
        self._generation += 1
        self._local.clear()

    def lookup_directory(self, host: str) -> Placement | None:
        handle = host[: -len(self._platform_suffix)] if host.endswith(self._platform_suffix) else None
        if handle is not None and "." in handle:
            handle = None
        with self._engine.connect() as conn:
            row = conn.execute(_LOOKUP, {"host": host, "handle": handle}).mappings().first()
        return Placement(**row) if row else None

    def _from_redis_or_directory(self, host: str):
        """The placement, None for an unknown host, or _UNREACHABLE when Redis failed."""
        try:
            epoch = self._redis.get(EPOCH_KEY) or "0"
            key = f"vitrine:hosts:{epoch}:{host}"
            cached = self._redis.get(key)
        except redis.RedisError:
            self._breaker.failed()
            return _UNREACHABLE
        if cached is not None:
            return Placement(**json.loads(cached)) if cached != "-" else None
        placement = self.lookup_directory(host)
        value = "-" if placement is None else json.dumps(placement.as_dict())
        self._breaker.call(self._redis.set, key, value, ex=int(NEGATIVE_TTL) if placement is None else REDIS_TTL)
        return placement

    def _listen(self) -> None:
        """Subscribe once per process (after a fork the thread is gone); while
        Redis is away, try again after the breaker's cool-down."""
        if self._listening_pid == os.getpid() or not self._breaker.available():
            return
        with self._lock:
            if self._listening_pid == os.getpid():
                return
            self._forget_local()
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(**{CHANNEL: lambda message: self._on_message(message)})
            except redis.RedisError:
                self._breaker.failed()
                pubsub.close()
                return
            pubsub.run_in_thread(sleep_time=1.0, daemon=True, exception_handler=self._on_listener_error)
            self._listening_pid = os.getpid()

    def _on_message(self, message) -> None:
        self._forget_local()

    def _on_listener_error(self, error, pubsub, thread) -> None:
        # Lost the channel: cached hosts may now be stale, so drop them and
        # subscribe again on the next request.
        self._forget_local()
        thread.stop()
        pubsub.close()
        self._listening_pid = None
