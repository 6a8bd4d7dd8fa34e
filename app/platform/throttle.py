"""How often people may try passwords and make us send mail.

Log-in, counted before the password is checked:
- per (email, client address): LOGIN_RATE_LIMIT attempts, then that pair is
  locked until its window ends (a success resets it);
- per client address, across emails: LOGIN_ADDRESS_RATE_LIMIT failures;
- per email, across addresses: beyond LOGIN_SLOWDOWN failures the email is
  only slowed down, to one attempt per 2, 4, 8… seconds (at most
  LOGIN_SLOWDOWN_MAX_DELAY), never locked; an address the account logged
  in from before skips the slow-down, so an attack from elsewhere cannot
  keep its owner out.
Mail (sign-up, password reset, invitations): MAIL_RATE_LIMIT per recipient
and MAIL_ADDRESS_RATE_LIMIT per client address, so nobody can use us to
mail-bomb anyone.
"""
from __future__ import annotations

import hashlib

from flask import current_app

from app.ratelimit import Limit, RateLimited, count, gate, give_back, hit, mark, marked, reset

KNOWN_ADDRESS_DAYS = 30


def _who(email: str) -> str:
    """Emails as keys, hashed: bounded length, and no addresses kept in Redis."""
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()[:32]


def _limit(name: str) -> Limit:
    return Limit.parse(current_app.config[name])


def login_attempt(email: str, address: str) -> None:
    """Count an attempt to check `email`'s password from `address`;
    RateLimited (with a Retry-After) if it must not be checked. An attempt
    refused by a later limit is given back to the earlier ones: it was not
    checked, so it must not use up the pair's allowance."""
    who = _who(email)
    pair = f"{who}:{address}"
    hit("login-pair", pair, _limit("LOGIN_RATE_LIMIT"))
    try:
        hit("login-address", address, _limit("LOGIN_ADDRESS_RATE_LIMIT"))
    except RateLimited:
        give_back("login-pair", pair)
        raise
    try:
        _slow_down(who, pair)
    except RateLimited:
        for name, key in (("login-pair", pair), ("login-address", address), ("login-email", who)):
            give_back(name, key)
        raise


def _slow_down(who: str, pair: str) -> None:
    slowdown = _limit("LOGIN_SLOWDOWN")
    failures = count("login-email", who, slowdown.seconds)
    if failures <= slowdown.count or marked("login-known", pair):
        return
    steps = (failures - slowdown.count - 1) // slowdown.count
    gate("login-gate", who, min(current_app.config["LOGIN_SLOWDOWN_MAX_DELAY"], 2 ** min(steps + 1, 16)))


def login_succeeded(email: str, address: str) -> None:
    """The attempt was right: it was no failure, and this address is known now."""
    who = _who(email)
    pair = f"{who}:{address}"
    reset("login-pair", pair)
    give_back("login-address", address)
    give_back("login-email", who)
    mark("login-known", pair, KNOWN_ADDRESS_DAYS * 86400)


def mail(email: str, address: str) -> None:
    """Count a mail someone at `address` makes us send to `email`; RateLimited beyond the limits."""
    hit("mail-email", _who(email), _limit("MAIL_RATE_LIMIT"))
    hit("mail-address", address, _limit("MAIL_ADDRESS_RATE_LIMIT"))
