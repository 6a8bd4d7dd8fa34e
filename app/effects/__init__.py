"""Side effects of a transaction, run only once it has committed.

- `emit(topic, **payload)` is durable. It adds a row to the outbox of the
  current store (outside any store: of the platform) in the caller's
  transaction. Once that transaction commits, a dispatch job for the store
  and the topic's queue is queued (at most one waits at a time, however many
  writes there were); it hands the rows to the topic's handler and deletes
  them only after the handler succeeded. A rolled-back transaction takes its
  rows with it; a lost job is made up for by the periodic sweep. An effect
  may run late, or twice, but never not at all, and never for a write that
  did not commit.
- `after_commit(fn, *args)` is in-process and best effort, for things like
  dropping a cache: it runs after the commit, a failure is logged and never
  turns a committed write into an error, and a rollback discards it. Hooks
  must not use the database session (it has no transaction at that point).

- `@listener(topic)` registers `fn(store_id)` to run in-process after the
  commit of any transaction that emitted `topic` (best effort, like
  `after_commit`): what must follow at once rather than through a worker,
  such as dropping the store's cached pages. A topic may have listeners and
  no durable handler; then `emit` writes no outbox row.

Packages do not import each other to trigger effects: a writer emits a topic,
and the package that cares registers a handler for it with `@handler` or
`@listener` (app/handlers.py imports every handler module).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import redis
from sqlalchemy import event

from app.effects.models import Outbox, PlatformOutbox
from app.extensions import db, get_redis
from app.jobs import enqueue
from tenants.context import current_store
from tenants.session import TenantSession

log = logging.getLogger(__name__)
KICK_TTL = 600  # a marker whose job was lost expires; the sweep covers the gap


@dataclass(frozen=True)
class Handler:
    topic: str
    queue: str
    fn: Callable[[list[dict]], None]
    batch: bool  # False: one row per call, so a failure never repeats another row's effect


HANDLERS: dict[str, Handler] = {}
LISTENERS: dict[str, list[Callable[[int | None], None]]] = {}


def handler(topic: str, *, queue: str, batch: bool = True):
    """Register `fn(payloads)` as what `topic` does; it runs on `queue`, in
    the store's context (or the platform's), inside the transaction that
    then deletes its rows. It must be safe to run twice."""

    def register(fn):
        if topic in HANDLERS:
            raise ValueError(f"topic {topic!r} already has a handler")
        HANDLERS[topic] = Handler(topic, queue, fn, batch)
        return fn

    return register


def listener(topic: str):
    """Register `fn(store_id)` to run after the commit of a transaction that emitted `topic`."""

    def register(fn):
        LISTENERS.setdefault(topic, []).append(fn)
        return fn

    return register


def emit(topic: str, **payload) -> None:
    """Record, in the current transaction, that `topic` must happen."""
    if topic not in HANDLERS and topic not in LISTENERS:
        raise ValueError(f"no handler for topic {topic!r}")
    store = current_store()
    store_id = store.id if store is not None else None
    if topic in HANDLERS:
        model = Outbox if store is not None else PlatformOutbox
        db.session.add(model(topic=topic, payload=payload))
        after_commit(kick, store_id, HANDLERS[topic].queue)
    for fn in LISTENERS.get(topic, ()):
        after_commit(fn, store_id)


def marker(store_id: int | None, queue: str) -> str:
    return f"vitrine:outbox:{store_id if store_id is not None else 'platform'}:{queue}"


def kick(store_id: int | None, queue: str, *, force: bool = False) -> None:
    """Queue a dispatch job for (store, queue) unless one is waiting already
    (`force`: the sweep's, whatever the marker says, since a job can be lost
    while its marker stays). With Redis away the rows wait for the sweep."""
    try:
        connection = get_redis()
        if connection.set(marker(store_id, queue), "1", nx=not force, ex=KICK_TTL):
            try:
                enqueue("app.effects.dispatch.dispatch", store_id, queue, queue_name=queue)
            except Exception:
                connection.delete(marker(store_id, queue))
                raise
    except redis.RedisError:
        log.warning("could not queue the %s outbox of store %s; the sweep will", queue, store_id)


def after_commit(fn: Callable, *args, every_call: bool = False) -> None:
    """Call fn(*args) once the current transaction commits (once, however
    often it is asked for, unless `every_call`: amounts to add up); never if
    it rolls back."""
    session = db.session()
    transaction = session.get_nested_transaction() or session.get_transaction() or session.begin()
    hooks = session.info.setdefault("after_commit", [])
    if every_call or not any(each[1:] == (fn, args) for each in hooks):
        hooks.append((transaction, fn, args))


@event.listens_for(TenantSession, "after_commit")
def _run_hooks(session) -> None:
    for _, fn, args in session.info.pop("after_commit", []):
        try:
            fn(*args)
        except Exception:  # the write is committed: its answer must not become an error
            log.exception("after-commit hook %s failed", getattr(fn, "__name__", fn))


@event.listens_for(TenantSession, "after_soft_rollback")
def _drop_hooks(session, previous_transaction) -> None:
    hooks = session.info.get("after_commit")
    if not hooks:
        return
    session.info["after_commit"] = [each for each in hooks if not _within(each[0], previous_transaction)]


def _within(transaction, ancestor) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False
