"""Logging a browser in and out (web layer: Flask's session and Flask-Login)."""
from __future__ import annotations

from flask import current_app, g, request, session
from flask_login import current_user, login_user, logout_user

from app.extensions import db
from app.platform import sessions
from tenants.models import Account


def log_in(account: Account) -> None:
    """A fresh Flask session (nothing from before carries over) tied to a new session row."""
    session.clear()
    session[sessions.COOKIE_KEY] = sessions.start(account.id, client_address(), request.user_agent.string)
    login_user(account)


def log_out() -> None:
    """Revoke this browser's session row, then forget the cookie's contents."""
    if current_user.is_authenticated and current_session_id() is not None:
        sessions.revoke(current_user.id, current_session_id())
        db.session.commit()
    logout_user()
    session.clear()


def current_session_id() -> int | None:
    """The id of the session row the request's cookie stands for (set by the user loader)."""
    return g.get("account_session_id")


def client_address() -> str:
    return request.remote_addr or "-"


def link_base() -> str:
    """Where links in mails point: PLATFORM_URL, else the address this request came to
    (its host was checked to be the platform host)."""
    return current_app.config["PLATFORM_URL"] or request.host_url.rstrip("/")
