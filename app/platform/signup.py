"""Sign-up that does not tell who has an account.

The request does the same work for any email: it checks the form, hashes
the password and records a mail to send. The worker then decides: a new
email gets a link that finishes creating the account; an email with an
account gets a note saying so, with links to log in and to reset the
password. Following the link means typing the password chosen at sign-up
again, so someone who signed up with another person's email cannot have
them confirm an account whose password the intruder knows.
"""
from __future__ import annotations

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from app.effects import emit
from app.extensions import db
from app.notifications.service import send_email
from app.platform import accounts, links, throttle
from app.platform.tokens import now
from tenants.errors import DirectoryError, DirectoryErrorCode as Code, NotFound
from tenants.models import Account

SIGNUP_REQUESTED = "account.signup_requested"
EXPIRED = "This link has expired or was already used. Sign up again to get a new one."


def request_signup(*, email: str, name: str, password: str, address: str, base_url: str) -> str:
    """Check the form and record the mail (commits); returns the email."""
    email, name = accounts.normalize_email(email), accounts.clean_name(name)
    accounts.check_password_strength(password, email=email, name=name)
    password_hash = generate_password_hash(password)  # always: the answer takes as long either way
    throttle.mail(email, address)
    emit(SIGNUP_REQUESTED, email=email, name=name, password_hash=password_hash, base_url=base_url)
    db.session.commit()
    return email


def send_signup_mail(*, email: str, name: str, password_hash: str, base_url: str) -> None:
    """Outbox handler: the link for a new email, a note for a known one."""
    if accounts.exists(email):
        send_email([email], "You already have a Vitrine account", (
            f"Someone, hopefully you, tried to sign up for Vitrine with {email}, but you already have an "
            f"account.\n\nLog in: {base_url}/login\nForgot your password? Reset it: {base_url}/password/reset\n\n"
            "If this was not you, you can ignore this mail: nothing has changed.\n"))
        return
    raw = links.issue("signup", email, current_app.config["SIGNUP_LINK_TTL"], name=name,
                      password_hash=password_hash)
    send_email([email], "Confirm your Vitrine account", (
        f"Hello {name},\n\nFinish creating your Vitrine account:\n{base_url}/signup/confirm/{raw}\n\n"
        f"You will be asked for the password you chose. The link works once, for "
        f"{current_app.config['SIGNUP_LINK_TTL'] // 3600} hours.\n\n"
        "If you did not sign up, ignore this mail and no account will be created.\n"))


def pending(raw: str) -> str:
    """The email a sign-up link is for; NotFound if it cannot be used."""
    link = links.usable("signup", raw)
    if link is None:
        raise NotFound(EXPIRED)
    return link.email


def confirm_signup(raw: str, password: str) -> Account:
    """Create the account the link stands for (commits)."""
    link = links.usable("signup", raw, lock=True)
    if link is None:
        raise NotFound(EXPIRED)
    if not check_password_hash(link.password_hash, password or ""):
        raise DirectoryError(Code.INVALID, "That is not the password you chose when you signed up.", "password")
    account = accounts.add_account(email=link.email, name=link.name, password_hash=link.password_hash)
    link.used_at = now()
    links.retire("signup", email=link.email)
    db.session.commit()
    return account
