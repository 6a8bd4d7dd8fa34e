"""The account page: name, password, sessions (on the platform host)."""
from __future__ import annotations

import re

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from app.domain_errors import DomainError
from app.extensions import db
from app.platform import accounts, bp, sessions, throttle
from app.platform.auth import client_address, current_session_id, log_out
from app.platform.forms import ActionForm, NameForm, PasswordChangeForm
from app.forms import attach_error
from app.ratelimit import RateLimited

TEMPLATE = "platform/account.html"
_BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
             ("Chromium/", "Chromium"), ("Safari/", "Safari"))
_SYSTEMS = (("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"), ("Windows", "Windows"),
            ("Mac OS X", "macOS"), ("CrOS", "ChromeOS"), ("Linux", "Linux"))


def device(user_agent: str) -> str:
    """A person-readable summary of a User-Agent, such as "Firefox on Linux"."""
    browser = next((name for marker, name in _BROWSERS if marker in user_agent), None)
    system = next((name for marker, name in _SYSTEMS if marker in user_agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (re.split(r"[\s/]", user_agent, maxsplit=1)[0] or "Unknown device")


def _page(name_form=None, password_form=None, status: int = 200, headers: dict | None = None):
    rows = [(row, device(row.user_agent)) for row in sessions.active(current_user.id)]
    return render_template(TEMPLATE, name_form=name_form or NameForm(formdata=None, data={"name": current_user.name}),
                           password_form=password_form or PasswordChangeForm(formdata=None), action=ActionForm(),
                           sessions=rows, current_id=current_session_id()), status, headers or {}


def _me():
    return current_user._get_current_object()


@bp.get("/account")
@login_required
def account():
    return _page()


@bp.post("/account/name")
@login_required
def rename():
    form = NameForm()
    if not form.validate_on_submit():
        return _page(name_form=form, status=400)
    try:
        accounts.rename(_me(), form.name.data)
    except DomainError as error:
        db.session.rollback()
        attach_error(form, error)
        return _page(name_form=form, status=error.status)
    flash("Your name is saved.")
    return redirect(url_for("platform.account"))


@bp.post("/account/password")
@login_required
def change_password():
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _page(password_form=form, status=400)
    try:
        throttle.login_attempt(current_user.email, client_address())  # a password check like a log-in
        accounts.change_password(_me(), form.current_password.data, form.new_password.data,
                                 keep_session=current_session_id())
    except RateLimited as limited:
        form.form_errors.append(f"Too many attempts. Try again in {limited.retry_after} seconds.")
        return _page(password_form=form, status=429, headers={"Retry-After": str(limited.retry_after)})
    except DomainError as error:
        db.session.rollback()
        attach_error(form, error)
        return _page(password_form=form, status=error.status)
    throttle.login_succeeded(current_user.email, client_address())
    flash("Your password is changed. Every other session was logged out.")
    return redirect(url_for("platform.account"))


@bp.post("/account/sessions/<id:session_id>/revoke")
@login_required
def revoke_session(session_id: int):
    if not ActionForm().validate_on_submit():
        return _page(status=400)
    if session_id == current_session_id():
        log_out()
        return redirect(url_for("platform.login"))
    sessions.revoke(current_user.id, session_id)  # NotFound (404) for anyone else's
    db.session.commit()
    flash("That session is logged out.")
    return redirect(url_for("platform.account"))


@bp.post("/account/logout-everywhere")
@login_required
def logout_everywhere():
    if not ActionForm().validate_on_submit():
        return _page(status=400)
    sessions.revoke_all(current_user.id)
    db.session.commit()
    log_out()
    flash("You are logged out everywhere, this browser included.")
    return redirect(url_for("platform.login"))
