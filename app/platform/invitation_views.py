"""Accepting a staff invitation from its mailed link."""
from __future__ import annotations

import logging

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.domain_errors import DomainError
from app.forms import render_invalid
from app.platform import accounts, bp, invitations
from app.platform.auth import log_in
from app.platform.forms import ActionForm, InvitationSignupForm
from app.platform.models import Invitation
from app.store import service as store_service
from app.errors import DATABASE_DOWN
from tenants.context import StoreUnavailable, store_context
from tenants.provisioning import placement_of

log = logging.getLogger(__name__)

TEMPLATE = "platform/invitation.html"


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str):
    found = invitations.find(token)  # 404 for a used, revoked, expired or unknown link
    if current_user.is_authenticated:
        return _as_member(token, found)
    if accounts.exists(found.email):  # only the link's holder, the invitee, learns this
        return render_template(TEMPLATE, invitation=found, state="login", token=token), \
            409 if request.method == "POST" else 200
    return _as_newcomer(token, found)


def _as_member(token: str, found: Invitation):
    form = ActionForm()
    if current_user.email != found.email:
        return render_template(TEMPLATE, invitation=found, state="wrong_account", form=form), 403
    if form.validate_on_submit():
        invitations.accept(token, current_user._get_current_object())
        return _joined(found, current_user.email)
    return render_template(TEMPLATE, invitation=found, state="accept", form=form), 400 if form.errors else 200


def _as_newcomer(token: str, found: Invitation):
    form = InvitationSignupForm()
    if form.validate_on_submit():
        try:
            account, _ = invitations.accept_as_new(token, name=form.name.data, password=form.password.data)
        except DomainError as error:
            return render_invalid(TEMPLATE, form, error, invitation=found, state="signup")
        log_in(account)
        return _joined(found, account.email)
    return render_template(TEMPLATE, invitation=found, state="signup", form=form), 400 if form.errors else 200


def _joined(found: Invitation, email: str):
    """The membership is committed: from here on nothing may turn the answer
    into an error, so the timeline entry is written on a best-effort basis."""
    store = found.store
    try:
        with store_context(placement_of(store)):
            store_service.record(email, "staff.joined", f"{email} joined as {found.role}")
    except (StoreUnavailable, *DATABASE_DOWN):
        log.warning("%s joined %s, but its timeline could not say so", email, store.handle)
    flash(f"Welcome to {store.name}! You work on it as {found.role}.")
    return redirect(url_for("admin.home", handle=store.handle))
