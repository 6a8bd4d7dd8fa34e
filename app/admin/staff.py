"""Staff: members, pending invitations, inviting, resending, revoking, removing."""
from flask import flash, g, redirect, render_template, url_for
from flask_login import current_user

from app.admin import bp
from app.admin.forms import ActionForm, StaffForm
from app.domain_errors import DomainError
from app.extensions import db
from app.forms import attach_error
from app.platform import invitations
from app.platform.auth import client_address, link_base
from app.ratelimit import RateLimited
from tenants.directory import require_manager
from tenants.staff import remove_member

TEMPLATE = "admin/staff.html"


def _page(form=None, status: int = 200, headers: dict | None = None):
    return render_template(TEMPLATE, form=form or StaffForm(formdata=None), action=ActionForm(),
                           invitations=invitations.pending(g.member.store_id)), status, headers or {}


@bp.route("/<handle>/staff", methods=["GET", "POST"])
def staff():
    require_manager(g.member)
    form = StaffForm()
    if not form.validate_on_submit():
        return _page(form, 400 if form.errors else 200)
    try:
        sent = invitations.invite(g.member, form.email.data, form.role.data, actor=current_user.email,
                                  address=client_address(), base_url=link_base())
    except DomainError as error:
        db.session.rollback()
        attach_error(form, error)
        return _page(form, error.status)
    except RateLimited as limited:
        db.session.rollback()
        form.form_errors.append(f"Too many invitations to that address or from here. Try again in "
                                f"{limited.retry_after} seconds.")
        return _page(form, 429, {"Retry-After": str(limited.retry_after)})
    # The same answer whether or not the email has a Vitrine account.
    flash(f"Invitation sent to {sent.email}.")
    return redirect(url_for("admin.staff"))


@bp.post("/<handle>/staff/invitations/<id:invitation_id>/resend")
def resend_invitation(invitation_id: int):
    require_manager(g.member)
    if not ActionForm().validate_on_submit():
        return _page(status=400)
    try:
        sent = invitations.resend(g.member, invitation_id, address=client_address(), base_url=link_base())
    except RateLimited as limited:
        db.session.rollback()
        flash(f"Too many invitations to that address or from here. Try again in {limited.retry_after} seconds.")
        return _page(status=429, headers={"Retry-After": str(limited.retry_after)})
    flash(f"Invitation sent to {sent.email} again.")
    return redirect(url_for("admin.staff"))


@bp.post("/<handle>/staff/invitations/<id:invitation_id>/revoke")
def revoke_invitation(invitation_id: int):
    require_manager(g.member)
    if not ActionForm().validate_on_submit():
        return _page(status=400)
    revoked = invitations.revoke(g.member, invitation_id, actor=current_user.email)
    flash(f"The invitation to {revoked.email} no longer works.")
    return redirect(url_for("admin.staff"))


@bp.post("/<handle>/staff/<id:account_id>/delete")
def delete_member(account_id: int):
    require_manager(g.member)
    if not ActionForm().validate_on_submit():
        return _page(status=400)
    email = remove_member(g.member, account_id, actor=current_user.email)
    flash(f"{email} no longer has access.")
    return redirect(url_for("admin.staff"))

