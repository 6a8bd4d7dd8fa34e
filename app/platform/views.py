"""Marketing page, log-in, log-out and store creation on the platform host."""
from __future__ import annotations


from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from app.forms import render_invalid
from app.platform import accounts, bp, throttle
from app.platform.auth import client_address, log_in, log_out
from app.parse import same_site_path
from app.platform.forms import LoginForm, NewStoreForm
from app.ratelimit import RateLimited
from app.store.setup import open_store
from tenants import state
from tenants.context import store_context
from tenants.errors import DirectoryError
from tenants.provisioning import create_store, placement_of, suggest_handle


def home():
    return render_template("platform/home.html")


def too_many(template: str, form, limited: RateLimited, what: str = "attempts", **context):
    """Re-render a form as a 429 that says when to come back."""
    form.form_errors.append(f"Too many {what}. Try again in {limited.retry_after} seconds.")
    return render_template(template, form=form, **context), 429, {"Retry-After": str(limited.retry_after)}


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        email, address = (form.email.data or "").strip().lower(), client_address()
        try:
            throttle.login_attempt(email, address)  # counted before the password is checked
        except RateLimited as limited:
            return too_many("platform/login.html", form, limited)
        account = accounts.authenticate(email, form.password.data)
        if account is None:
            form.form_errors.append("That email and password do not match an account.")
            return render_template("platform/login.html", form=form), 401
        throttle.login_succeeded(email, address)
        log_in(account)
        return redirect(same_site_path(request.args.get("next")) or url_for("admin.index"))
    return render_template("platform/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
@login_required
def logout():
    log_out()
    return redirect(url_for("root.index"))


@bp.route("/stores/new", methods=["GET", "POST"])
@login_required
def new_store():
    form = NewStoreForm()
    if form.validate_on_submit():
        # Left blank (no JavaScript to fill it in), the handle is made from the name; a refusal shows it for editing.
        form.handle.data = (form.handle.data or "").strip() or suggest_handle(form.name.data)
        try:
            store = create_store(handle=form.handle.data, name=form.name.data,
                                 currency=form.currency.data, owner=current_user._get_current_object())
        except DirectoryError as error:
            return render_invalid("platform/new_store.html", form, error)
        with store_context(placement_of(store)):
            open_store(store.name, current_user.email)
        flash(f"{store.name} is ready. Its storefront is live at {state().store_address(store.handle)}.")
        return redirect(url_for("admin.home", handle=store.handle))
    return render_template("platform/new_store.html", form=form), 400 if form.errors else 200
