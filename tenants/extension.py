"""The tenancy extension: per-app state and the per-request store switch."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Flask, abort, current_app, g, has_request_context, request

from tenants.context import activate, deactivate
from tenants.resolver import BadHost, HostResolver, normalize_host

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TenancyState:
    def __init__(self, app: Flask, db):
        # PLATFORM_HOST may carry a port (vitrine.localhost:5000): hosts are
        # matched without it, and the addresses we show get it back.
        self.platform_host, self.platform_port = split_port(app.config["PLATFORM_HOST"])
        self.pool_capacity = app.config["POOL_CAPACITY"]
        self.app_role = app.config["APP_DB_USER"]
        self.database_urls: dict[str, str] = app.config["DATABASES"]
        self._owner_engines: dict[str, sa.Engine] = {}
        self._db = db
        self._app = app
        self._resolver: HostResolver | None = None

    @property
    def resolver(self) -> HostResolver:
        if self._resolver is None:
            self._resolver = HostResolver(
                self._db.engine, self._app.extensions["redis"], self.platform_host,
                self._app.config["STORE_CACHE_TTL"], self._app.extensions["redis_breaker"],
            )
        return self._resolver

    def owner_engine(self, db_key: str) -> sa.Engine:
        """Engine for migrations and provisioning DDL (the owner role)."""
        if db_key not in self.database_urls:
            raise KeyError(f"unknown database {db_key!r}; configured: {', '.join(self.database_urls)}")
        if db_key not in self._owner_engines:
            self._owner_engines[db_key] = sa.create_engine(
                self.database_urls[db_key], pool_pre_ping=True, pool_size=2, max_overflow=2,
            )
        return self._owner_engines[db_key]

    def store_host(self, handle: str) -> str:
        """The store's DNS name (a CNAME target: DNS has no ports)."""
        return f"{handle}.{self.platform_host}"

    def public_host(self, hostname: str) -> str:
        """`hostname` as a browser must type it to reach this server: with
        PLATFORM_HOST's port, else the port the current request came in on
        (`flask run` on :5000), since every host is served by the same server."""
        port = self.platform_port or (_request_port() if has_request_context() else None)
        return f"{hostname}:{port}" if port else hostname

    def store_address(self, handle: str) -> str:
        """The store's Vitrine address as shown to people: handle.host[:port]."""
        return self.public_host(self.store_host(handle))

    def store_url(self, handle: str) -> str:
        return self.public_url(self.store_host(handle))

    def public_url(self, hostname: str) -> str:
        """An http(s) URL for `hostname` (a store's address or a custom domain) that works as shown."""
        scheme = request.scheme if has_request_context() else self._app.config["PREFERRED_URL_SCHEME"]
        return f"{scheme}://{self.public_host(hostname)}/"


def split_port(host: str) -> tuple[str, str | None]:
    """("vitrine.localhost", "5000") from "vitrine.localhost:5000"; the port None if absent."""
    name, colon, port = host.rpartition(":")
    return (name, port) if colon and port.isdigit() else (host, None)


def _request_port() -> str | None:
    return split_port(request.host)[1]


class Tenancy:
    def init_app(self, app: Flask, db) -> None:
        app.extensions["tenancy"] = TenancyState(app, db)
        app.add_template_global(_store_address, "store_address")
        app.add_template_global(_store_url, "store_url")
        app.add_template_global(_public_url, "public_url")
        app.add_template_global(_platform_address, "platform_address")
        app.before_request(_enter_request_store)
        app.teardown_request(_leave_request_store)


def state() -> TenancyState:
    return current_app.extensions["tenancy"]


def _store_address(handle: str) -> str:
    return state().store_address(handle)


def _store_url(handle: str) -> str:
    return state().store_url(handle)


def _public_url(hostname: str) -> str:
    return state().public_url(hostname)


def _platform_address() -> str:
    """What follows `handle.` in a store's address, port included."""
    tenancy = state()
    return tenancy.public_host(tenancy.platform_host)


def _enter_request_store():
    """Resolve Host to the platform or a store; 400 for junk, 404 for unknown."""
    g.store = None
    g.store_tokens = []
    try:
        host = normalize_host(request.host)
    except BadHost:
        abort(400, description="The Host header is not a valid hostname.")
    tenancy = state()
    g.on_platform = host == tenancy.platform_host
    if g.on_platform:
        return
    store = tenancy.resolver.resolve(host)
    if store is None or store.status != "active":
        abort(404, description=f"No store answers at {host}.")
    use_store(store)


def use_store(store) -> None:
    """Make `store` current for the rest of this request.

    A write request to a store in the middle of a tier move's switch is
    refused up front (503), before it changes anything anywhere; the write
    guard (tenants.session) checks again at the first write.
    """
    if request.method not in SAFE_METHODS:
        from tenants.moves import refuse_if_frozen

        refuse_if_frozen(store)
        g.freeze_checked = store.id  # the write guard need not ask Redis again
    g.store = store
    g.store_tokens.append(activate(store))


def _leave_request_store(exc=None):
    for tokens in reversed(g.pop("store_tokens", [])):
        deactivate(tokens)
