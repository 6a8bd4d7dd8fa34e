"""Customer accounts: registering, checking a password, and the password
reset (a single-use link mailed after commit, no answer that tells whether
an email has an account). Runs inside a store context; passwords follow the
platform's rule for merchants (app.platform.accounts)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from app.customers.errors import CustomerError, CustomerErrorCode as Code, collect
from app.customers.models import Customer, CustomerResetToken
from app.domain_errors import DomainError
from app.effects import emit
from app.extensions import db
from app.notifications.service import send_email
from app.parse import text
from app.platform import throttle
from app.platform.accounts import MAX_PASSWORD, check_password_strength, normalize_email
from app.platform.tokens import digest, in_seconds, new_token, now, well_formed
from app.ratelimit import Limit, hit
from tenants.context import require_store

RESET_REQUESTED = "customer.password_reset_requested"
EXPIRED = "This link has expired or was already used. Ask for a new one."
TAKEN = "An account with this email already exists. Log in, or reset your password if you forgot it."
# A real hash to check against when the email is unknown, so a login takes
# as long for a missing account as for a wrong password.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def clean_email(raw) -> str:
    return normalize_email(text(raw, field="email", label="Email", max_length=254, required=True))


def clean_name(raw) -> str:
    return text(raw, field="name", label="Your name", max_length=120, required=True)


def clean_password(raw, *, email: str = "", name: str = "", field: str = "password") -> str:
    password = "" if raw is None else str(raw)
    check_password_strength(password, email=email, name=name, field=field)
    return password


def register(*, email, name, password, address: str) -> Customer:
    """A new account of the current store (commits); FormErrors for every bad field, TAKEN (409) for a known
    email, RateLimited beyond the REGISTER_RATE_LIMIT setting's attempts from one client address at this store."""
    hit("customer-register", f"{require_store().id}:{address}", Limit.parse(current_app.config["REGISTER_RATE_LIMIT"]))
    values = collect({"name": lambda: clean_name(name), "email": lambda: clean_email(email),
                      "password": lambda: clean_password(password, email=str(email or ""), name=str(name or ""))})
    if by_email(values["email"]) is not None:
        raise CustomerError(Code.TAKEN, TAKEN, "email", status=409)
    customer = Customer(email=values["email"], name=values["name"],
                        password_hash=generate_password_hash(values["password"]))
    db.session.add(customer)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:  # the same email, registered meanwhile
        db.session.rollback()
        raise CustomerError(Code.TAKEN, TAKEN, "email", status=409) from None
    return customer


def by_email(email: str) -> Customer | None:
    if not isinstance(email, str) or len(email) > 254:
        return None
    return db.session.scalar(sa.select(Customer).where(Customer.email == email.strip().lower()))


def get(customer_id: int) -> Customer | None:
    return db.session.get(Customer, (require_store().id, customer_id))


def authenticate(email: str, password: str) -> Customer | None:
    customer = by_email(email)
    password = (password or "")[:MAX_PASSWORD]  # hashing a megabyte would cost more than any check
    if customer is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return customer if check_password_hash(customer.password_hash, password) else None


def login_key(email: str) -> str:
    """Whose attempts the platform's log-in throttle counts: this store's account of `email`
    (a shopper's tries at one store never lock their account elsewhere, or a merchant's)."""
    return f"store:{require_store().id}:{(email or '').strip().lower()}"


# -- password reset --------------------------------------------------------------------------------------------------

def request_reset(*, email, address: str, base_url: str) -> str:
    """Record the request (commits); the worker mails a link if the email has an account here.
    RateLimited beyond the mail limits (per recipient and per client address)."""
    email = clean_email(email)
    throttle.mail(email, address)
    emit(RESET_REQUESTED, email=email, base_url=base_url)
    db.session.commit()
    return email


def send_reset_mail(*, email: str, base_url: str) -> None:
    """Outbox handler: a link for an account's email; nothing for an unknown one."""
    customer = by_email(email)
    if customer is None:
        return
    store = require_store()
    ttl = current_app.config["PASSWORD_RESET_TTL"]
    raw, hashed = new_token()
    db.session.execute(sa.delete(CustomerResetToken).where(CustomerResetToken.customer_id == customer.id,
                                                           CustomerResetToken.expires_at < now()))
    db.session.add(CustomerResetToken(customer_id=customer.id, token_hash=hashed, expires_at=in_seconds(ttl)))
    db.session.flush()
    send_email([customer.email], f"Reset your {store.name} password", (
        f"Hello {customer.name},\n\nChoose a new password for your account at {store.name}:\n"
        f"{base_url}/account/reset/{raw}\n\nThe link works once, for {max(1, ttl // 60)} minutes. "
        "Setting a new password logs you out everywhere.\n\n"
        "If you did not ask for this, ignore this mail: your password stays as it is.\n"))


def _usable_token(raw, *, lock: bool = False) -> CustomerResetToken | None:
    if not isinstance(raw, str) or not well_formed(raw):
        return None
    query = sa.select(CustomerResetToken).where(CustomerResetToken.token_hash == digest(raw),
                                                CustomerResetToken.used_at.is_(None),
                                                CustomerResetToken.expires_at > now())
    return db.session.scalar(query.with_for_update() if lock else query)


def customer_for_token(raw) -> Customer:
    token = _usable_token(raw)
    if token is None:
        raise CustomerError(Code.EXPIRED, EXPIRED, status=404)
    return get(token.customer_id)


def reset_password(raw, password) -> Customer:
    """Set the new password, use up every open link and end every session (commits)."""
    token = _usable_token(raw, lock=True)
    if token is None:
        raise CustomerError(Code.EXPIRED, EXPIRED, status=404)
    customer = get(token.customer_id)
    try:
        collect({"password": lambda: clean_password(password, email=customer.email, name=customer.name)})
    except DomainError:
        db.session.rollback()
        raise
    customer.password_hash = generate_password_hash(password)
    customer.session_version += 1
    db.session.execute(sa.update(CustomerResetToken).where(CustomerResetToken.customer_id == customer.id,
                                                           CustomerResetToken.used_at.is_(None))
                       .values(used_at=now()))
    db.session.commit()
    return customer
