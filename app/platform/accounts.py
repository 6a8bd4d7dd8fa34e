"""Merchant accounts: sign-up and password checks."""
from __future__ import annotations

import re

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from tenants.errors import DirectoryError, DirectoryErrorCode as Code
from tenants.models import Account

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")
MIN_PASSWORD = 10
COMMON_PASSWORDS = frozenset("""
    password password1 password123 passw0rd 1234567890 12345678910 qwertyuiop 1q2w3e4r5t
    iloveyou123 letmein123 welcome123 administrator changeme123 trustno1234 football123
""".split())
# A real hash to check against when the email is unknown, so a login takes
# as long for a missing account as for a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise DirectoryError(Code.INVALID, "Enter a valid email address, like you@example.com.", "email")
    return email


def check_password_strength(password: str, email: str = "") -> None:
    password = password or ""
    problem = None
    if len(password) < MIN_PASSWORD:
        problem = f"Use at least {MIN_PASSWORD} characters."
    elif len(password) > 200:
        problem = "Use at most 200 characters."
    elif password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        problem = "That password is too easy to guess."
    elif email and email.split("@")[0] in password.lower():
        problem = "Do not use your email address in your password."
    if problem:
        raise DirectoryError(Code.INVALID, problem, "password")


def create_account(*, email: str, name: str, password: str) -> Account:
    email = normalize_email(email)
    name = " ".join((name or "").split())
    if not 1 <= len(name) <= 120:
        raise DirectoryError(Code.INVALID, "Tell us your name (up to 120 characters).", "name")
    check_password_strength(password, email)
    if db.session.scalar(sa.select(Account.id).where(Account.email == email)) is not None:
        raise DirectoryError(Code.TAKEN, "An account with that email already exists. Log in instead?", "email")
    account = Account(email=email, name=name, password_hash=generate_password_hash(password))
    db.session.add(account)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise DirectoryError(Code.TAKEN, "An account with that email already exists.", "email") from None
    return account


def authenticate(email: str, password: str) -> Account | None:
    account = db.session.scalar(sa.select(Account).where(Account.email == (email or "").strip().lower()))
    if account is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return account if check_password_hash(account.password_hash, password or "") else None
