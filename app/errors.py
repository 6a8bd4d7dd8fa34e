"""Error pages: every 4xx gets a clear message, never a stack trace."""
from __future__ import annotations

from flask import jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.extensions import db
from app.ratelimit import RateLimited
from tenants.context import StoreUnavailable
from app.domain_errors import DomainError


def _page(status: int, title: str, message: str, headers: dict | None = None, code: str | None = None):
    # Whatever the refused request left in the session goes: rendering the
    # page must not flush it (and be refused again) or commit any of it.
    db.session.rollback()
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        body = jsonify(error={"code": code or title.lower().replace(" ", "_"), "message": message})
    else:
        body = render_template("error.html", status=status, title=title, message=message)
    return body, status, headers or {}


def register_error_handlers(app) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
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

    @app.errorhandler(RateLimited)
    def rate_limited(error: RateLimited):
        return _page(429, "Too Many Requests", f"Too many attempts. Try again in {error.retry_after} seconds.",
                     {"Retry-After": str(error.retry_after)})
