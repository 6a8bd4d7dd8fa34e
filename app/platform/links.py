"""Single-use links mailed to prove an email (sign-up, password reset)."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.platform.models import EmailLink
from app.platform.tokens import digest, in_seconds, new_token, now, well_formed


def issue(purpose: str, email: str, seconds: int, **fields) -> str:
    """Add a link row (the caller commits) and return its token, for the mail only."""
    raw, hashed = new_token()
    db.session.execute(sa.delete(EmailLink).where(EmailLink.email == email, EmailLink.expires_at < now()))
    db.session.add(EmailLink(purpose=purpose, token_hash=hashed, email=email, expires_at=in_seconds(seconds),
                             **fields))
    db.session.flush()
    return raw


def usable(purpose: str, raw: str | None, *, lock: bool = False) -> EmailLink | None:
    """The link a token stands for, if unused and unexpired; `lock` holds
    it until commit, so two clicks cannot both use it."""
    if not well_formed(raw):
        return None
    query = sa.select(EmailLink).where(EmailLink.purpose == purpose, EmailLink.token_hash == digest(raw),
                                       EmailLink.used_at.is_(None), EmailLink.expires_at > now())
    return db.session.scalar(query.with_for_update() if lock else query)


def retire(purpose: str, *, email: str | None = None, account_id: int | None = None) -> None:
    """Use up every open link of a kind for an email or account (the caller commits)."""
    query = sa.update(EmailLink).where(EmailLink.purpose == purpose, EmailLink.used_at.is_(None))
    query = query.where(EmailLink.email == email) if email is not None else query.where(
        EmailLink.account_id == account_id)
    db.session.execute(query.values(used_at=now()))
