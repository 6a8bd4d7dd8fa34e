"""Sign-up with a confirmation link, and password reset."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for

from app.domain_errors import DomainError
from app.forms import render_invalid
from app.platform import bp, resets, signup as signups, throttle
from app.platform.auth import client_address, link_base, log_in
from app.platform.forms import ConfirmSignupForm, ResetForm, ResetRequestForm, SignupForm
from app.platform.views import too_many
from app.ratelimit import RateLimited


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    form = SignupForm()
    if form.validate_on_submit():
        try:
            email = signups.request_signup(email=form.email.data, name=form.name.data,
                                           password=form.password.data, address=client_address(),
                                           base_url=link_base())
        except DomainError as error:
            return render_invalid("platform/signup.html", form, error)
        except RateLimited as limited:
            return too_many("platform/signup.html", form, limited, "emails to that address or from here")
        return render_template("platform/check_inbox.html", email=email, purpose="signup")
    return render_template("platform/signup.html", form=form), 400 if form.errors else 200


@bp.route("/signup/confirm/<token>", methods=["GET", "POST"])
def confirm_signup(token: str):
    email = signups.pending(token)  # 404 for a used, expired or unknown link
    form = ConfirmSignupForm()
    if form.validate_on_submit():
        try:
            throttle.login_attempt(email, client_address())  # a password check like any other
            account = signups.confirm_signup(token, form.password.data)
        except RateLimited as limited:
            return too_many("platform/confirm_signup.html", form, limited, email=email)
        except DomainError as error:
            return render_invalid("platform/confirm_signup.html", form, error, email=email)
        throttle.login_succeeded(email, client_address())
        log_in(account)
        flash("Welcome to Vitrine! Create your first store.")
        return redirect(url_for("platform.new_store"))
    return render_template("platform/confirm_signup.html", form=form, email=email), 400 if form.errors else 200


@bp.route("/password/reset", methods=["GET", "POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        try:
            email = resets.request_reset(email=form.email.data, address=client_address(), base_url=link_base())
        except DomainError as error:
            return render_invalid("platform/reset_request.html", form, error)
        except RateLimited as limited:
            return too_many("platform/reset_request.html", form, limited, "emails to that address or from here")
        return render_template("platform/check_inbox.html", email=email, purpose="reset")
    return render_template("platform/reset_request.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    account = resets.account_for(token)  # 404 for a used, expired or unknown link
    form = ResetForm()
    if form.validate_on_submit():
        try:
            account = resets.reset_password(token, form.new_password.data)
        except DomainError as error:
            return render_invalid("platform/reset_password.html", form, error, email=account.email)
        log_in(account)
        flash("Your password is changed, and every other session was logged out.")
        return redirect(url_for("admin.index"))
    return render_template("platform/reset_password.html", form=form, email=account.email), \
        400 if form.errors else 200
