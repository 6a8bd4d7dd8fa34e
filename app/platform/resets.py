"""Password reset: the same answer for any email; a single-use link that
expires (PASSWORD_RESET_TTL); a new strong password ends every session."""
from __future__ import annotations

from flask import current_app

from app.effects import emit
from app.extensions import db
from app.notifications.service import send_email
from app.platform import accounts, links, throttle
from app.platform.tokens import now
from tenants.errors import NotFound
from tenants.models import Account

RESET_REQUESTED = "account.password_reset_requested"
EXPIRED = "This link has expired or was already used. Ask for a new one."


def request_reset(*, email: str, address: str, base_url: str) -> str:
    """Record the request (commits); the worker mails a link if the email has an account."""
    email = accounts.normalize_email(email)
    throttle.mail(email, address)
    emit(RESET_REQUESTED, email=email, base_url=base_url)
    db.session.commit()
    return email


def send_reset_mail(*, email: str, base_url: str) -> None:
    """Outbox handler: a link for an account's email; nothing for an unknown one."""
    account = accounts.by_email(email)
    if account is None:
        return
    ttl = current_app.config["PASSWORD_RESET_TTL"]
    raw = links.issue("reset", email, ttl, account_id=account.id)
    send_email([email], "Reset your Vitrine password", (
        f"Hello {account.name},\n\nChoose a new password for your Vitrine account:\n"
        f"{base_url}/password/reset/{raw}\n\nThe link works once, for {max(1, ttl // 60)} minutes. "
        "Setting a new password logs you out everywhere.\n\n"
        "If you did not ask for this, ignore this mail: your password stays as it is.\n"))


def account_for(raw: str) -> Account:
    link = links.usable("reset", raw)
    if link is None:
        raise NotFound(EXPIRED)
    return link.account


def reset_password(raw: str, password: str) -> Account:
    """Set the new password and end every session (commits)."""
    link = links.usable("reset", raw, lock=True)
    if link is None:
        raise NotFound(EXPIRED)
    account = link.account
    accounts.set_password(account, password)
    link.used_at = now()
    db.session.commit()
    return account
