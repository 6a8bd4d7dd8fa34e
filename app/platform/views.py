"""Marketing page, sign-up, log-in and store creation on the platform host."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.forms import render_invalid
from app.platform import accounts, bp
from app.platform.forms import LoginForm, NewStoreForm, SignupForm
from app.ratelimit import Limit, RateLimited, check, hit, reset
from app.store import service as store_service
from tenants import state
from tenants.context import store_context
from tenants.errors import DirectoryError
from tenants.provisioning import create_store, placement_of


def home():
    return render_template("platform/home.html")


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        try:
            account = accounts.create_account(email=form.email.data, name=form.name.data,
                                              password=form.password.data)
        except DirectoryError as error:
            return render_invalid("platform/signup.html", form, error)
        login_user(account)
        flash("Welcome to Vitrine! Create your first store.")
        return redirect(url_for("platform.new_store"))
    return render_template("platform/signup.html", form=form), 400 if form.errors else 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip().lower()
        limit = Limit.parse(current_app.config["LOGIN_RATE_LIMIT"])
        # Failed attempts count, per email and (more loosely) per address.
        limits = (("login-email", email, limit),
                  ("login-ip", request.remote_addr or "-", Limit(limit.count * 5, limit.seconds)))
        try:
            for name, key, each in limits:
                check(name, key, each)
        except RateLimited as limited:
            form.form_errors.append(f"Too many attempts. Try again in {limited.retry_after} seconds.")
            return render_template("platform/login.html", form=form), 429, {"Retry-After": str(limited.retry_after)}
        account = accounts.authenticate(email, form.password.data)
        if account is None:
            for name, key, each in limits:
                hit(name, key, each)
            form.form_errors.append("That email and password do not match an account.")
            return render_template("platform/login.html", form=form), 401
        reset("login-email", email)
        session.clear()
        login_user(account)
        return redirect(_safe_next(request.args.get("next")) or url_for("admin.index"))
    return render_template("platform/login.html", form=form), 400 if form.errors else 200


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    return redirect(url_for("root.index"))


@bp.route("/stores/new", methods=["GET", "POST"])
@login_required
def new_store():
    form = NewStoreForm()
    if form.validate_on_submit():
        try:
            store = create_store(handle=form.handle.data, name=form.name.data,
                                 currency=form.currency.data, owner=current_user._get_current_object())
        except DirectoryError as error:
            return render_invalid("platform/new_store.html", form, error)
        with store_context(placement_of(store)):
            store_service.record(current_user.email, "store.created", f"Created the store “{store.name}”")
        flash(f"{store.name} is ready. Its storefront is live at {state().store_host(store.handle)}.")
        return redirect(url_for("admin.home", handle=store.handle))
    return render_template("platform/new_store.html", form=form), 400 if form.errors else 200


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: never an open redirect."""
    if not target:
        return None
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None  # browsers read "/\\evil.example" as "//evil.example"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
