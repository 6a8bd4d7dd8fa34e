"""Rate limits: fixed-window counters and gates, keyed by what is limited.

Counting comes first (INCR, atomic), deciding second, so parallel requests
can never all slip in under the limit.

Redis holds the counters, shared by every process. While Redis is away
(or its breaker is open) each process counts in its own memory with the
same limits: limiting goes on, only per process (so at most the number of
web processes times a limit), and nobody is refused for Redis's sake.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import redis
from flask import current_app

from app.extensions import get_redis, redis_breaker

PREFIX = "vitrine:ratelimit:"
# DECR only a window that still exists (a missing key would come back without an expiry).
_GIVE_BACK = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('decr', KEYS[1]) end return 0"


@dataclass(frozen=True)
class Limit:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Limit:
        count, seconds = text.split("/")
        return cls(int(count), int(seconds))


class RateLimited(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"too many attempts; retry in {retry_after}s")
        self.retry_after = retry_after


def hit(name: str, key: str, limit: Limit) -> int:
    """Count one attempt; RateLimited if that makes more than `limit` in the window."""
    count, ttl = _call("incr", f"{PREFIX}{name}:{key}", limit.seconds)
    if count > limit.count:
        raise RateLimited(max(1, ttl))
    return count


def count(name: str, key: str, seconds: int) -> int:
    """Count one event in a window of `seconds`; returns how many so far."""
    return _call("incr", f"{PREFIX}{name}:{key}", seconds)[0]


def give_back(name: str, key: str) -> None:
    """Uncount one attempt (it turned out fine), if its window is still open."""
    _call("give_back", f"{PREFIX}{name}:{key}")


def gate(name: str, key: str, seconds: int) -> None:
    """Let one attempt through per `seconds`; RateLimited for the others."""
    passed, ttl = _call("set_nx", f"{PREFIX}{name}:{key}", seconds)
    if not passed:
        raise RateLimited(max(1, ttl))


def mark(name: str, key: str, seconds: int) -> None:
    _call("mark", f"{PREFIX}{name}:{key}", seconds)


def marked(name: str, key: str) -> bool:
    return bool(_call("exists", f"{PREFIX}{name}:{key}"))


def reset(name: str, key: str) -> None:
    _call("delete", f"{PREFIX}{name}:{key}")


def _call(operation: str, *args):
    breaker = redis_breaker()
    if breaker.available():
        try:
            return getattr(_Redis(get_redis()), operation)(*args)
        except redis.RedisError:
            breaker.failed()
    return getattr(_memory(), operation)(*args)


class _Redis:
    def __init__(self, connection: redis.Redis):
        self.r = connection

    def incr(self, key: str, seconds: int) -> tuple[int, int]:
        pipe = self.r.pipeline()  # MULTI/EXEC: the window opens and counts in one step
        pipe.set(key, 0, ex=seconds, nx=True)  # (EXPIRE NX needs Redis 7)
        pipe.incr(key)
        pipe.ttl(key)
        _, count, ttl = pipe.execute()
        return count, ttl

    def give_back(self, key: str) -> None:
        self.r.eval(_GIVE_BACK, 1, key)

    def set_nx(self, key: str, seconds: int) -> tuple[bool, int]:
        if self.r.set(key, 1, ex=seconds, nx=True):
            return True, seconds
        return False, self.r.ttl(key)

    def mark(self, key: str, seconds: int) -> None:
        self.r.set(key, 1, ex=seconds)

    def exists(self, key: str) -> bool:
        return bool(self.r.exists(key))

    def delete(self, key: str) -> None:
        self.r.delete(key)


class _Memory:
    """The same operations in this process's memory, for while Redis is away."""

    MAX_KEYS = 100_000

    def __init__(self):
        self._lock = threading.Lock()
        self._values: dict[str, tuple[int, float]] = {}  # key -> (value, expires at, monotonic)

    def _live(self, key: str, now: float) -> tuple[int, float] | None:
        entry = self._values.get(key)
        if entry is not None and entry[1] <= now:
            del self._values[key]
            return None
        return entry

    def _ttl(self, expires: float, now: float) -> int:
        return max(1, round(expires - now))

    def incr(self, key: str, seconds: int) -> tuple[int, int]:
        with self._lock:
            now = time.monotonic()
            self._prune(now)
            value, expires = self._live(key, now) or (0, now + seconds)
            self._values[key] = (value + 1, expires)
            return value + 1, self._ttl(expires, now)

    def give_back(self, key: str) -> None:
        with self._lock:
            entry = self._live(key, time.monotonic())
            if entry is not None:
                self._values[key] = (entry[0] - 1, entry[1])

    def set_nx(self, key: str, seconds: int) -> tuple[bool, int]:
        with self._lock:
            now = time.monotonic()
            entry = self._live(key, now)
            if entry is not None:
                return False, self._ttl(entry[1], now)
            self._values[key] = (1, now + seconds)
            return True, seconds

    def mark(self, key: str, seconds: int) -> None:
        with self._lock:
            self._values[key] = (1, time.monotonic() + seconds)

    def exists(self, key: str) -> bool:
        with self._lock:
            return self._live(key, time.monotonic()) is not None

    def delete(self, key: str) -> None:
        with self._lock:
            self._values.pop(key, None)

    def _prune(self, now: float) -> None:
        """Keep memory bounded: drop expired windows, and if that is not
        enough, the oldest (a reset window errs towards letting people in)."""
        if len(self._values) < self.MAX_KEYS:
            return
        for key in [k for k, (_, expires) in self._values.items() if expires <= now]:
            del self._values[key]
        while len(self._values) >= self.MAX_KEYS:
            del self._values[next(iter(self._values))]


def _memory() -> _Memory:
    return current_app.extensions.setdefault("ratelimit_memory", _Memory())
