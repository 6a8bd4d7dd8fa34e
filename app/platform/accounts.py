"""Merchant accounts: creating them, passwords and their strength, names."""
from __future__ import annotations

import re
import threading

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from app.extensions import db
from app.parse import text
from app.platform import sessions
from app.platform.links import retire
from tenants.errors import DirectoryError, DirectoryErrorCode as Code
from tenants.models import Account

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")
MIN_PASSWORD, MAX_PASSWORD = 10, 200
MIN_SCORE = 3  # zxcvbn: "safely unguessable" against an online attack and then some
# zxcvbn's own length limit: its time grows fast beyond it (seconds for 200
# random characters), and a strong first 72 characters make a strong password.
SCORED_LENGTH = 72
_zxcvbn_lock = threading.Lock()  # zxcvbn keeps the user inputs of a check in a module global
# A real hash to check against when the email is unknown, so a login takes
# as long for a missing account as for a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise DirectoryError(Code.INVALID, "Enter a valid email address, like you@example.com.", "email")
    return email


def clean_name(name: str) -> str:
    return text(name, field="name", label="Your name", max_length=120, required=True)


def check_password_strength(password: str, *, email: str = "", name: str = "", field: str = "password") -> None:
    """Refuse a password zxcvbn scores below 3 (the person's email and name
    count as easy to guess), saying why and how to do better."""
    password = password or ""
    if len(password) < MIN_PASSWORD:
        raise DirectoryError(Code.INVALID, f"Use at least {MIN_PASSWORD} characters.", field)
    if len(password) > MAX_PASSWORD:
        raise DirectoryError(Code.INVALID, f"Use at most {MAX_PASSWORD} characters.", field)
    with _zxcvbn_lock:
        result = zxcvbn(password[:SCORED_LENGTH], user_inputs=_personal_words(email, name))
    if result["score"] < MIN_SCORE:
        feedback = result["feedback"]
        advice = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])]))
        raise DirectoryError(Code.INVALID, f"That password is too easy to guess. {advice}".strip(), field)


def _personal_words(email: str, name: str) -> list[str]:
    """What zxcvbn should take as easy to guess for this person: the email,
    its local part and the pieces of it, the name, its words, run together too."""
    local = email.split("@")[0]
    words = [email, local, *re.split(r"[._+-]+", local), name, *name.split(), "".join(name.split()),
             re.sub(r"[._+-]+", "", local)]
    return list(dict.fromkeys(word for word in words if len(word) >= 3))


def add_account(*, email: str, name: str, password: str | None = None, password_hash: str | None = None) -> Account:
    """Add a confirmed account to the session (the caller commits): either a
    password to check and hash, or the hash of one checked before."""
    email, name = normalize_email(email), clean_name(name)
    if password_hash is None:
        check_password_strength(password, email=email, name=name)
        password_hash = generate_password_hash(password)
    taken = DirectoryError(Code.TAKEN, "An account with that email already exists. Log in instead.", "email",
                           status=409)
    if exists(email):
        raise taken
    account = Account(email=email, name=name, password_hash=password_hash)
    db.session.add(account)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # the same email, created meanwhile
        db.session.rollback()
        raise taken from None
    return account


def create_account(*, email: str, name: str, password: str) -> Account:
    """A confirmed account, at once (fixtures, the demo seed, the CLI)."""
    account = add_account(email=email, name=name, password=password)
    db.session.commit()
    return account


def exists(email: str) -> bool:
    return db.session.scalar(sa.select(Account.id).where(Account.email == email)) is not None


def by_email(email: str) -> Account | None:
    return db.session.scalar(sa.select(Account).where(Account.email == (email or "").strip().lower()))


def authenticate(email: str, password: str) -> Account | None:
    account = by_email(email)
    if account is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    return account if check_password_hash(account.password_hash, password or "") else None


def set_password(account: Account, password: str, *, keep_session: int | None = None) -> None:
    """A new (strong) password: every session but `keep_session` ends, and
    reset links not used yet stop working. The caller commits."""
    check_password_strength(password, email=account.email, name=account.name, field="new_password")
    account.password_hash = generate_password_hash(password)
    sessions.revoke_all(account.id, keep=keep_session)
    retire("reset", account_id=account.id)


def change_password(account: Account, current: str, new: str, *, keep_session: int | None) -> None:
    if not check_password_hash(account.password_hash, current or ""):
        raise DirectoryError(Code.INVALID, "That is not your current password.", "current_password")
    set_password(account, new, keep_session=keep_session)
    db.session.commit()


def rename(account: Account, name: str) -> None:
    account.name = clean_name(name)
    db.session.commit()
