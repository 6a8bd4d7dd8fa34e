from flask import flash, g, redirect, render_template, url_for
from flask_login import current_user

from app.admin import bp
from app.admin.forms import ActionForm, DomainForm
from app.forms import render_invalid
from app.store import service as store_service
from tenants.directory import require_manager
from tenants.domains import add_domain, remove_domain
from tenants.errors import DirectoryError

TEMPLATE = "admin/domains.html"


@bp.route("/<handle>/domains", methods=["GET", "POST"])
def domains():
    require_manager(g.member)
    form = DomainForm()
    if form.validate_on_submit():
        try:
            domain = add_domain(g.member, form.hostname.data)
        except DirectoryError as error:
            return render_invalid(TEMPLATE, form, error, action=ActionForm())
        store_service.record(current_user.email, "domain.added", f"Connected {domain.hostname}")
        flash(f"{domain.hostname} now points at this store. Point its DNS at Vitrine to go live.")
        return redirect(url_for("admin.domains"))
    return render_template(TEMPLATE, form=form, action=ActionForm()), 400 if form.errors else 200


@bp.post("/<handle>/domains/<id:domain_id>/delete")
def delete_domain(domain_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        return render_template(TEMPLATE, form=DomainForm(), action=form), 400
    hostname = remove_domain(g.member, domain_id)
    store_service.record(current_user.email, "domain.removed", f"Disconnected {hostname}")
    flash(f"{hostname} was removed.")
    return redirect(url_for("admin.domains"))
