from flask import flash, g, redirect, render_template, url_for
from flask_login import current_user

from app.admin import bp
from app.extensions import require_redis
from app.admin.forms import ActionForm, DomainForm
from app.forms import render_invalid
from tenants.directory import require_manager
from tenants.domain_jobs import PENDING_EVERY
from tenants.domains import add_domain, instructions, remove_domain, request_check
from tenants.errors import DirectoryError
from tenants.extension import state

TEMPLATE = "admin/domains.html"


def _context() -> dict:
    # The CNAME target is a bare DNS name; the links on the page carry the port too (tenants.extension).
    return {"instructions": instructions, "pending_minutes": int(PENDING_EVERY.total_seconds() // 60),
            "dns_target": state().store_host(g.member.store.handle)}


def _page(form: DomainForm, action: ActionForm, status: int = 200):
    return render_template(TEMPLATE, form=form, action=action, **_context()), status


@bp.route("/<handle>/domains", methods=["GET", "POST"])
def domains():
    require_manager(g.member)
    form = DomainForm()
    if form.validate_on_submit():
        try:
            require_redis()  # every process's host cache must hear of it
            domain = add_domain(g.member, form.hostname.data, actor=current_user.email)
        except DirectoryError as error:
            return render_invalid(TEMPLATE, form, error, action=ActionForm(), **_context())
        flash(f"{domain.hostname} was added. Add one of the DNS records shown for it: it goes live as soon as "
              "we find the record.")
        return redirect(url_for("admin.domains"))
    return _page(form, ActionForm(), 400 if form.errors else 200)


@bp.post("/<handle>/domains/<id:domain_id>/check")
def check_domain(domain_id: int):
    require_manager(g.member)
    form = ActionForm()
    if not form.validate_on_submit():
        return _page(DomainForm(formdata=None), form, 400)
    domain = request_check(g.member, domain_id)
    flash(f"Checking the DNS of {domain.hostname} now; this page shows the result in a moment.")
    return redirect(url_for("admin.domains"))


@bp.post("/<handle>/domains/<id:domain_id>/delete")
def delete_domain(domain_id: int):
    require_manager(g.member)
    form = ActionForm()
    if not form.validate_on_submit():
        return _page(DomainForm(formdata=None), form, 400)
    require_redis()  # every process's host cache must drop it
    hostname = remove_domain(g.member, domain_id, actor=current_user.email)
    flash(f"{hostname} was removed.")
    return redirect(url_for("admin.domains"))
