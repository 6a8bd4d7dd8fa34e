"""Server-side merchant sessions.

Log-in creates a row and gives the browser a random token (kept in the
signed session cookie); only the token's hash is stored. A request is
logged in only while its row is live: not revoked, used within
SESSION_IDLE_TIMEOUT and younger than SESSION_LIFETIME. Logging out,
"log out everywhere", a password change (other sessions) and a password
reset (all of them) revoke rows, so a copied cookie dies with its row.
"""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.platform.models import AccountSession
from app.platform.tokens import digest, new_token, now, well_formed
from tenants.errors import NotFound
from tenants.models import Account

COOKIE_KEY = "auth"  # where the token sits in Flask's session
TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most this often per session


def start(account_id: int, ip_address: str, user_agent: str) -> str:
    """A new session for the account; returns its token (commits)."""
    db.session.execute(sa.delete(AccountSession).where(AccountSession.account_id == account_id, ~_live()))
    raw, hashed = new_token()
    db.session.add(AccountSession(account_id=account_id, token_hash=hashed, ip_address=(ip_address or "")[:64],
                                  user_agent=(user_agent or "")[:255]))
    db.session.commit()
    return raw


def resume(account_id: str, raw: str | None) -> tuple[Account, AccountSession] | None:
    """The account and session a request's cookie stands for, if still live."""
    if not well_formed(raw) or not account_id.isdigit():
        return None
    row = db.session.scalar(sa.select(AccountSession).where(AccountSession.token_hash == digest(raw), _live()))
    if row is None or row.account_id != int(account_id):
        return None
    _touch(row)
    return db.session.get(Account, row.account_id), row


def active(account_id: int) -> list[AccountSession]:
    return list(db.session.scalars(sa.select(AccountSession).where(AccountSession.account_id == account_id, _live())
                                   .order_by(AccountSession.last_seen_at.desc())))


def revoke(account_id: int, session_id: int) -> None:
    """End one of the account's sessions (the caller commits); NotFound for anyone else's."""
    row = db.session.get(AccountSession, session_id)
    if row is None or row.account_id != account_id:
        raise NotFound("No such session.")
    row.revoked_at = row.revoked_at or now()


def revoke_all(account_id: int, keep: int | None = None) -> None:
    """End every session of the account but `keep` (the caller commits)."""
    query = sa.update(AccountSession).where(AccountSession.account_id == account_id,
                                            AccountSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(AccountSession.id != keep)
    db.session.execute(query.values(revoked_at=now()))


def _live():
    config, moment = current_app.config, now()
    return sa.and_(AccountSession.revoked_at.is_(None),
                   AccountSession.last_seen_at > moment - timedelta(seconds=config["SESSION_IDLE_TIMEOUT"]),
                   AccountSession.created_at > moment - timedelta(seconds=config["SESSION_LIFETIME"]))


def _touch(row: AccountSession) -> None:
    """Record use in a transaction of its own: a GET must not write through
    the request's session, and a refused write must not lose it."""
    moment = now()
    if moment - row.last_seen_at < TOUCH_EVERY:
        return
    with db.engine.begin() as connection:
        connection.execute(sa.update(AccountSession.__table__).where(AccountSession.__table__.c.id == row.id)
                           .values(last_seen_at=moment))
    set_committed_value(row, "last_seen_at", moment)
