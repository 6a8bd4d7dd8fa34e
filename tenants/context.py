"""Which store the current unit of work belongs to.

A `Placement` says where a store's rows live. Web requests activate one per
request (tenants.web), jobs and CLI commands use `store_context`. The session
(tenants.session) reads it at every transaction start to point the tenant
connection at the store's schema and row-level-security id.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass

SCHEMA_RE = re.compile(r"^(pool|store)_[0-9a-z_]{1,50}$")


@dataclass(frozen=True)
class Placement:
    id: int
    handle: str
    name: str
    currency: str
    tier: str
    db_key: str
    schema: str
    status: str
    locale: str = "en_US"

    def __post_init__(self):
        if not SCHEMA_RE.match(self.schema):
            raise ValueError(f"not a tenant schema name: {self.schema!r}")

    def as_dict(self) -> dict:
        return asdict(self)


class NoStoreContext(RuntimeError):
    """Tenant data was touched outside any store context."""


class StoreUnavailable(RuntimeError):
    """The store cannot take writes right now (a tier move is switching it)."""

    retry_after = 2


_current: ContextVar[Placement | None] = ContextVar("vitrine_store", default=None)


def current_store() -> Placement | None:
    return _current.get()


def require_store() -> Placement:
    store = _current.get()
    if store is None:
        raise NoStoreContext("no store is active: use store_context(store) or a store request")
    return store


def activate(store: Placement | None):
    """Make `store` current; returns a token for `deactivate`."""
    return _current.set(store)


def deactivate(token) -> None:
    _current.reset(token)


@contextmanager
def store_context(store: Placement):
    """Run a block as `store`: commit on success, roll back on error.

    Either way the tenant transaction ends inside the block, so the store's
    search_path and RLS id never leak into whatever runs next.
    """
    from app.extensions import db

    db.session.commit()  # nothing opened before may carry another store's settings
    token = activate(store)
    try:
        yield store
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    finally:
        deactivate(token)
