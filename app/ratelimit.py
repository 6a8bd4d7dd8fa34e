"""Fixed-window rate limits in Redis, keyed by what is being limited."""
from __future__ import annotations

from dataclasses import dataclass

from app.extensions import get_redis


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


def check(name: str, key: str, limit: Limit) -> None:
    """RateLimited if `limit` attempts were already counted in the window."""
    redis_key = f"vitrine:ratelimit:{name}:{key}"
    pipe = get_redis().pipeline()
    pipe.get(redis_key)
    pipe.ttl(redis_key)
    count, ttl = pipe.execute()
    if count is not None and int(count) >= limit.count:
        raise RateLimited(max(1, ttl))


def hit(name: str, key: str, limit: Limit) -> None:
    """Count one attempt; RateLimited once `limit` is exceeded in the window."""
    redis_key = f"vitrine:ratelimit:{name}:{key}"
    pipe = get_redis().pipeline()
    pipe.set(redis_key, 0, ex=limit.seconds, nx=True)  # opens the window (EXPIRE NX needs Redis 7)
    pipe.incr(redis_key)
    pipe.ttl(redis_key)
    _, count, ttl = pipe.execute()
    if count > limit.count:
        raise RateLimited(max(1, ttl))


def reset(name: str, key: str) -> None:
    get_redis().delete(f"vitrine:ratelimit:{name}:{key}")
