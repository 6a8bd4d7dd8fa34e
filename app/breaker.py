"""A circuit breaker for Redis, which is a cache and a queue, never the
source of truth: while it is away, callers skip it instead of failing."""
from __future__ import annotations

import time

import redis


class Breaker:
    """After Redis failed, skip it for `cooldown` seconds, so that while it
    is away each request pays nothing for it instead of a connect timeout."""

    def __init__(self, cooldown: float = 5.0):
        self.cooldown = cooldown
        self._open_until = 0.0

    def available(self) -> bool:
        return time.monotonic() >= self._open_until

    def failed(self) -> None:
        self._open_until = time.monotonic() + self.cooldown

    def call(self, fn, *args, default=None, **kwargs):
        """fn(*args) against Redis, or `default` if Redis is away (now or recently)."""
        if not self.available():
            return default
        try:
            return fn(*args, **kwargs)
        except redis.RedisError:
            self.failed()
            return default
