from flask import flash, g, redirect, render_template, url_for
from flask_login import current_user

from app.admin import bp
from app.admin.forms import ActionForm, StaffForm
from app.forms import render_invalid
from app.store import service as store_service
from tenants.directory import require_manager
from tenants.staff import add_member, remove_member
from tenants.errors import DirectoryError

TEMPLATE = "admin/staff.html"


@bp.route("/<handle>/staff", methods=["GET", "POST"])
def staff():
    require_manager(g.member)
    form = StaffForm()
    if form.validate_on_submit():
        try:
            added = add_member(g.member, form.email.data, form.role.data)
        except DirectoryError as error:
            return render_invalid(TEMPLATE, form, error, action=ActionForm())
        store_service.record(current_user.email, "staff.added", f"Added {added.account.email} as {added.role}")
        flash(f"{added.account.email} can now work on this store as {added.role}.")
        return redirect(url_for("admin.staff"))
    return render_template(TEMPLATE, form=form, action=ActionForm()), 400 if form.errors else 200


@bp.post("/<handle>/staff/<id:account_id>/delete")
def delete_member(account_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        return render_template(TEMPLATE, form=StaffForm(), action=form), 400
    email = remove_member(g.member, account_id)
    store_service.record(current_user.email, "staff.removed", f"Removed {email}")
    flash(f"{email} no longer has access.")
    return redirect(url_for("admin.staff"))
