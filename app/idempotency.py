"""Idempotency keys for writes a retry must not repeat (the checkout), kept
per store for 24 hours (migration t0017).

`run(scope, key, request, fn)` answers a request once: the first call with a
key claims it (a committed row) and runs `fn`; its answer is stored, in the
transaction `fn` left open, so an outcome and its answer commit together. The same
key with the same request gets that stored answer again, however often it is
sent; with another request, a 422. A second call while the first still runs
waits for its answer (a double-clicked "Pay" gets the first click's page). A
claim whose runner died (no answer after STALE) may be taken over: the work
behind it must be safe to resume (the checkout's is).

Answers worth replaying are stored: successes, and refusals that will not
change by asking again (402 declined, 409 stock, 422). A 503 ("try again
shortly") is not stored, so the retry really runs again.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Mapped, mapped_column

from app.domain_errors import DomainError
from app.extensions import db
from tenants.context import require_store
from tenants.tenant_model import TenantModel

KEEP = timedelta(hours=24)
STALE = timedelta(minutes=2)  # a claim this old without an answer lost its runner
WAIT_SECONDS = 30.0  # how long a second call waits for the first one's answer
MAX_KEY_LENGTH = 255
REPLAYED = {200, 201, 202, 402, 409, 422}


class IdempotencyKey(TenantModel):
    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("store_id", "scope", "key"),
                      sa.Index("idempotency_keys_expiry", "store_id", "expires_at"))

    scope: Mapped[str] = mapped_column(sa.String(32))
    key: Mapped[str] = mapped_column(sa.String(MAX_KEY_LENGTH))
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[int | None] = mapped_column(sa.Integer)  # None while it runs
    body: Mapped[dict | None] = mapped_column(JSONB)
    claimed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class IdempotencyErrorCode(str, Enum):
    MISSING = "missing_key"
    INVALID = "invalid_key"
    REUSED = "key_reused"
    IN_PROGRESS = "in_progress"


class IdempotencyError(DomainError):
    pass


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    replayed: bool = False


def check_key(raw) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise IdempotencyError(IdempotencyErrorCode.MISSING, "An Idempotency-Key is required.", "idempotency_key",
                               status=400)
    key = raw.strip()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise IdempotencyError(IdempotencyErrorCode.INVALID, f"The Idempotency-Key must be at most {MAX_KEY_LENGTH} "
                               "printable characters.", "idempotency_key", status=400)
    return key


def fingerprint(request: dict) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def run(scope: str, key: str, request: dict, fn: Callable[[], Answer]) -> Answer:
    """`fn()`'s answer for this key: run once, replayed after."""
    digest = fingerprint(request)
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        stored = _claim(scope, key, digest)
        if stored is None:
            break  # ours to run
        if stored.status is not None:
            return Answer(stored.status, stored.body or {}, replayed=True)
        if time.monotonic() > deadline:
            raise IdempotencyError(IdempotencyErrorCode.IN_PROGRESS, "A request with this Idempotency-Key is still "
                                   "being processed; try again in a moment.", "idempotency_key", status=409)
        time.sleep(0.1)  # another request runs this key: its answer is ours too
    try:
        answer = fn()
        if answer.status in REPLAYED:
            _store(scope, key, answer)  # with what `fn` left uncommitted: the outcome and its answer together
        else:
            db.session.commit()
            _release(scope, key)
    except BaseException:
        _release(scope, key)
        raise
    return answer


def _claim(scope: str, key: str, digest: str) -> IdempotencyKey | None:
    """None: the key is ours now (claimed, committed). Else the row that has it."""
    table = IdempotencyKey.__table__
    now = sa.func.now()  # the transaction's start, the same in both statements
    db.session.execute(sa.delete(IdempotencyKey).where(  # a lapsed key, or a claim of this request whose runner died
        IdempotencyKey.scope == scope, IdempotencyKey.key == key,
        sa.or_(IdempotencyKey.expires_at <= now,
               sa.and_(IdempotencyKey.request_hash == digest, IdempotencyKey.status.is_(None),
                       IdempotencyKey.claimed_at <= now - STALE))))
    claimed = db.session.execute(insert(table).values(
        store_id=require_store().id, scope=scope, key=key, request_hash=digest, claimed_at=now,
        expires_at=now + KEEP).on_conflict_do_nothing().returning(table.c.id)).first()
    db.session.commit()
    if claimed is not None:
        return None
    row = db.session.scalar(sa.select(IdempotencyKey).where(IdempotencyKey.scope == scope,
                                                            IdempotencyKey.key == key))
    db.session.commit()
    if row is None:
        return _claim(scope, key, digest)  # it lapsed between the two statements
    if row.request_hash != digest:
        raise IdempotencyError(IdempotencyErrorCode.REUSED, "This Idempotency-Key was already used with a different "
                               "request.", "idempotency_key", status=422)
    return row


def _store(scope: str, key: str, answer: Answer) -> None:
    db.session.execute(sa.update(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
                       .values(status=answer.status, body=answer.body))
    db.session.commit()


def _release(scope: str, key: str) -> None:
    db.session.rollback()
    db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key,
                                                       IdempotencyKey.status.is_(None)))
    db.session.commit()


def sweep() -> int:
    """Forget the current store's lapsed keys."""
    deleted = db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.expires_at <= sa.func.now()))
    db.session.commit()
    return deleted.rowcount
