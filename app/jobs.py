"""RQ plumbing: queues, enqueueing, and the app context jobs run in.

Jobs take ids, never objects, and are safe to run twice. The worker command
(`flask --app wsgi worker`) creates the app once; each job runs in a forked
work horse, which drops the parent's database connections before use.
"""
from __future__ import annotations

import functools
import os

import redis
import sqlalchemy as sa
from flask import current_app
from rq import Queue, Retry, Worker

from app.extensions import db
from tenants.context import store_context
from tenants.models import Store, placement_of

QUEUES = ("reservations", "payments", "notifications", "search", "imports", "webhooks", "default")

_worker_app = None
_worker_pid = None


def rq_connection() -> redis.Redis:
    """RQ wants raw bytes, so it gets its own client."""
    if "rq_redis" not in current_app.extensions:
        current_app.extensions["rq_redis"] = redis.Redis.from_url(current_app.config["REDIS_URL"])
    return current_app.extensions["rq_redis"]


def queue(name: str = "default") -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}")
    return Queue(name, connection=rq_connection())


def enqueue(func, *args, queue_name: str = "default", **kwargs):
    """Enqueue a job; every job is idempotent, so a failure is retried with back-off."""
    kwargs.setdefault("retry", Retry(max=3, interval=[5, 30, 120]))
    return queue(queue_name).enqueue(func, *args, **kwargs)


def job(fn):
    """Run a job function inside the worker's app context."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        if _worker_app is None:  # called in-process (tests, benchmarks): the caller's app
            current_app._get_current_object()
            return fn(*args, **kwargs)
        with _worker_app.app_context():  # a fresh context, so each job has its own session
            _forget_inherited_connections(_worker_app)
            return fn(*args, **kwargs)

    return run


def each_store():
    """For periodic jobs: enter each active store's context in turn (the
    caller's loop body runs inside it); yields its placement."""
    placements = [placement_of(s) for s in db.session.scalars(
        sa.select(Store).where(Store.status == "active").order_by(Store.id))]
    db.session.commit()
    for placement in placements:
        with store_context(placement):
            yield placement


def _forget_inherited_connections(app) -> None:
    """In a forked work horse, drop (without closing) the parent's pooled
    connections, once per process: a socket must never be shared by two."""
    global _worker_pid
    if os.getpid() == _worker_pid:
        return
    _worker_pid = os.getpid()
    for engine in db.engines.values():
        engine.dispose(close=False)
    for engine in app.extensions["tenancy"]._owner_engines.values():
        engine.dispose(close=False)


def run_worker(app, queues=QUEUES, *, burst: bool = False) -> None:
    global _worker_app, _worker_pid
    _worker_app, _worker_pid = app, os.getpid()
    with app.app_context():
        worker = Worker([queue(name) for name in queues], connection=rq_connection())
        worker.work(with_scheduler=True, burst=burst)
