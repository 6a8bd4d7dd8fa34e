"""Module-level extension objects, bound to an app by create_app()."""
from __future__ import annotations

import redis
from flask import current_app
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from app.breaker import Breaker
from tenants.session import TenantSession

db = SQLAlchemy(session_options={"class_": TenantSession})
login_manager = LoginManager()
csrf = CSRFProtect()


class RedisClient:
    """Holds one Redis connection pool per app. Timeouts are short: Redis is
    a cache and a queue, and a request must not hang on it when it is away."""

    def init_app(self, app):
        app.extensions["redis"] = redis.Redis.from_url(
            app.config["REDIS_URL"], decode_responses=True, socket_connect_timeout=1, socket_timeout=2,
            health_check_interval=30)
        app.extensions["redis_breaker"] = Breaker()


redis_client = RedisClient()


def get_redis() -> redis.Redis:
    return current_app.extensions["redis"]


def redis_breaker() -> Breaker:
    return current_app.extensions["redis_breaker"]


class RedisUnavailable(RuntimeError):
    """A write that needs Redis (to drop a shared cache, to queue a job) was
    refused before it changed anything, because Redis is away."""

    retry_after = 5


def require_redis() -> None:
    """Call before a write whose effects need Redis: answering 503 up front
    beats a committed change that other processes keep serving stale."""
    breaker = redis_breaker()
    if breaker.available():
        try:
            get_redis().ping()
            return
        except redis.RedisError:
            breaker.failed()
    raise RedisUnavailable("Redis is unreachable")
