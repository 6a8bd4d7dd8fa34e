"""Dead letters: a store's outbox rows that failed EFFECTS_MAX_ATTEMPTS times.

They are left aside by the dispatch (app.effects.dispatch) and kept with
their last error, for the dashboard's "Failed jobs" page, where a merchant
retries one once its cause is fixed (its attempts start again and a dispatch
is queued) or discards it.
"""
from __future__ import annotations

import json
from enum import Enum

import sqlalchemy as sa

from app.domain_errors import DomainError
from app.effects import HANDLERS, after_commit, kick
from app.effects.dispatch import max_attempts
from app.effects.models import Outbox
from app.extensions import db
from app.pagination import Page, paginate
from tenants.context import require_store

SUMMARY = 160  # characters of a payload shown in the list


class DeadLetterErrorCode(str, Enum):
    NOT_FOUND = "not_found"


class DeadLetterError(DomainError):
    pass


def _dead():
    return Outbox.attempts >= max_attempts()


def dead_letters_page(page: int, per_page: int = 25) -> Page:
    """The store's dead letters, most recently failed first."""
    query = sa.select(Outbox).where(_dead()).order_by(Outbox.last_attempt_at.desc().nulls_last(), Outbox.id.desc())
    return paginate(query, page=page, per_page=per_page)


def dead_letter_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Outbox).where(_dead()))


def summary(payload: dict) -> str:
    """A payload in one short line, for the list."""
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= SUMMARY else text[:SUMMARY - 1] + "…"


def _get_dead(outbox_id: int) -> Outbox:
    row = db.session.scalar(sa.select(Outbox).where(Outbox.id == outbox_id, _dead()).with_for_update())
    if row is None:
        raise DeadLetterError(DeadLetterErrorCode.NOT_FOUND, "That failed job is not in the list any more (it was "
                              "retried or discarded already).", status=404)
    return row


def retry(outbox_id: int) -> Outbox:
    """Give a dead letter its attempts back and queue a dispatch for it, once this commits."""
    row = _get_dead(outbox_id)
    row.attempts, row.next_attempt_at = 0, None
    handler = HANDLERS.get(row.topic)
    if handler is not None:
        after_commit(kick, require_store().id, handler.queue)
    db.session.commit()
    return row


def discard(outbox_id: int) -> None:
    """Drop a dead letter for good: its effect will not happen."""
    db.session.delete(_get_dead(outbox_id))
    db.session.commit()
