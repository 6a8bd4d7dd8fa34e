"""Error pages: every 4xx gets a clear message, never a stack trace; an
outage of PostgreSQL or Redis is a 503 with Retry-After, never a 500."""
from __future__ import annotations

import logging

import psycopg
import redis
import sqlalchemy as sa
from flask import current_app, g, jsonify, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.domain_errors import DomainError
from app.extensions import RedisUnavailable, db
from app.ratelimit import RateLimited
from tenants.context import StoreUnavailable

log = logging.getLogger(__name__)
DATABASE_DOWN = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError, psycopg.OperationalError)
OUTAGE_RETRY_AFTER = 5


def _page(status: int, title: str, message: str, headers: dict | None = None, code: str | None = None,
          *, bare: bool = False):
    """`bare`: rendered without the context processors, which would reach
    for the database (the logged-in account) while it is away."""
    back = _way_back(status) if not bare else None
    _forget_the_request_writes()
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        body = jsonify(error={"code": code or title.lower().replace(" ", "_"), "message": message})
    elif bare:
        body = current_app.jinja_env.get_template("error.html").render(status=status, title=title, message=message)
    else:
        body = render_template("error.html", status=status, title=title, message=message, back=back)
    return body, status, headers or {}


def _way_back(status: int) -> tuple[str, str] | None:
    """(link, label) for a merchant refused in the dashboard: back to the
    home of the store they are in, not to the marketing page."""
    if status != 403 or g.get("member") is None:
        return None
    store = g.store  # the placement use_store set: plain values, no query while the session may be failing
    return url_for("admin.home", handle=store.handle), f"Back to {store.name}’s dashboard"


def _forget_the_request_writes() -> None:
    """Whatever the refused request left in the session goes: rendering the
    page must not flush it (and be refused again) or commit any of it."""
    try:
        db.session.rollback()
    except DATABASE_DOWN:
        pass  # the connection is gone, and its transaction with it


def _on_a_shop() -> bool:
    return g.get("store") is not None and not g.get("on_platform", True) and not request.path.startswith("/api/")


def _themed_not_found():
    """The store's own 404 page; the plain one should its theme fail to render."""
    from app.storefront.views import themed_not_found

    try:
        return themed_not_found()
    except Exception:  # a 404 must stay a 404, whatever the theme does
        log.exception("the themed 404 page failed")
        _forget_the_request_writes()
        return None


def register_error_handlers(app) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code == 404 and _on_a_shop():
            themed = _themed_not_found()
            if themed is not None:
                return themed
        return _page(error.code or 500, error.name, error.description or error.name)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _page(400, "Bad Request", "This form has expired. Reload the page and try again.")

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        return _page(error.status, error.code.value.replace("_", " ").title(), error.message, code=error.code.value)

    @app.errorhandler(StoreUnavailable)
    def store_unavailable(error: StoreUnavailable):
        return _page(503, "Service Unavailable",
                     "This store is being upgraded and cannot save changes for a few seconds. Please retry.",
                     {"Retry-After": str(StoreUnavailable.retry_after)})

    @app.errorhandler(RedisUnavailable)
    @app.errorhandler(redis.RedisError)
    def redis_unavailable(error: Exception):
        log.warning("answered 503, Redis is unreachable: %s", error)
        return _page(503, "Service Unavailable", "This needs a service that is briefly unreachable, so nothing was "
                     "saved. Please try again in a few seconds.", {"Retry-After": str(OUTAGE_RETRY_AFTER)})

    for outage in DATABASE_DOWN:
        app.register_error_handler(outage, _database_unavailable)

    @app.errorhandler(RateLimited)
    def rate_limited(error: RateLimited):
        return _page(429, "Too Many Requests", f"Too many attempts. Try again in {error.retry_after} seconds.",
                     {"Retry-After": str(error.retry_after)})


def _database_unavailable(error: Exception):
    log.warning("answered 503, the database is unreachable: %s", str(error).splitlines()[0] if str(error) else error)
    return _page(503, "Service Unavailable", "We cannot reach our database right now. Please try again in a few "
                 "seconds.", {"Retry-After": str(OUTAGE_RETRY_AFTER)}, code="database_unavailable", bare=True)
