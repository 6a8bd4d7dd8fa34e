"""Discount codes in the dashboard: the list with their uses, a new code,
editing, deactivating, and deleting a code no order used. Owners and admins only."""
from __future__ import annotations

from datetime import timezone

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app import parse
from app.admin import bp
from app.admin.pricing_forms import amount_text, percent_text, refused
from app.checkout import discounts
from app.checkout.models import MAX_DISCOUNTS
from app.domain_errors import DomainError
from app.extensions import db
from tenants.directory import require_manager

LABELS = {"percentage": "Percentage off", "fixed": "Amount off", "free_shipping": "Free shipping"}


def _moment(value) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M") if value else ""


@bp.route("/<handle>/discounts", methods=["GET", "POST"])
def discount_codes():
    require_manager(g.member)
    page_number = parse.page_number(request.args)  # before any write: a bad page changes nothing
    if request.method == "POST":
        try:
            row = discounts.create(request.form, actor=current_user.email)
        except DomainError as error:
            db.session.rollback()  # first: the page's reads must not flush the refused write
            return refused("admin/discounts.html", error, page=discounts.discounts_page(page_number),
                           limit=MAX_DISCOUNTS, labels=LABELS)
        flash(f"Added the code {row.code}.")
        return redirect(url_for("admin.discount_codes"), 303)
    return render_template("admin/discounts.html", page=discounts.discounts_page(page_number), limit=MAX_DISCOUNTS,
                           form=MultiDict({"active": "on"}), errors={}, labels=LABELS)


def _form_of(row) -> MultiDict:
    value = {"percentage": percent_text(row.value), "fixed": amount_text(row.value)}.get(row.kind, "")
    form = MultiDict({"code": row.code, "kind": row.kind, "value": value,
                      "minimum_subtotal": amount_text(row.minimum_subtotal) if row.minimum_subtotal else "",
                      "starts_at": _moment(row.starts_at), "ends_at": _moment(row.ends_at),
                      "usage_limit": row.usage_limit or "", "per_customer_limit": row.per_customer_limit or ""})
    if row.active:
        form.add("active", "on")
    return form


@bp.route("/<handle>/discounts/<id:discount_id>", methods=["GET", "POST"])
def discount_code(discount_id: int):
    require_manager(g.member)
    row = discounts.get(discount_id)
    if request.method == "POST":
        try:
            row = discounts.update(discount_id, request.form, actor=current_user.email)
        except DomainError as error:
            db.session.rollback()  # first: the page's reads must not flush the refused write
            if error.status == 404:
                raise
            return refused("admin/discount.html", error, discount=row, labels=LABELS)
        flash(f"Saved the code {row.code}.")
        return redirect(url_for("admin.discount_codes"), 303)
    return render_template("admin/discount.html", discount=row, form=_form_of(row), errors={}, labels=LABELS)


@bp.post("/<handle>/discounts/<id:discount_id>/deactivate")
def deactivate_discount(discount_id: int):
    require_manager(g.member)
    row = discounts.deactivate(discount_id, actor=current_user.email)
    flash(f"Deactivated {row.code}: checkout no longer takes it.")
    return redirect(url_for("admin.discount_code", discount_id=discount_id), 303)


@bp.post("/<handle>/discounts/<id:discount_id>/delete")
def delete_discount(discount_id: int):
    require_manager(g.member)
    discounts.delete(discount_id, actor=current_user.email)
    flash("Deleted the code.")
    return redirect(url_for("admin.discount_codes"), 303)
