"""Taxes in the dashboard: rates by country and region, and whether prices
include tax and shipping is taxed. Owners and admins only."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.admin import bp
from app.admin.pricing_forms import errors_of, percent_text, refused
from app.checkout import taxes
from app.checkout.models import MAX_TAX_RATES
from app.domain_errors import DomainError
from app.extensions import db, require_redis
from tenants.directory import require_manager


def _settings_form() -> MultiDict:
    include, tax_shipping = taxes.tax_settings()
    return MultiDict([(name, "on") for name, on in (("prices_include_tax", include), ("tax_shipping", tax_shipping))
                      if on])


def _page_context() -> dict:
    return {"rates": taxes.all_rates(), "settings_form": _settings_form(), "limit": MAX_TAX_RATES}


@bp.app_template_filter("percent")
def percent_filter(basis_points: int) -> str:
    return percent_text(basis_points) + " %"


@bp.route("/<handle>/taxes", methods=["GET", "POST"])
def tax_rates():
    require_manager(g.member)
    if request.method == "POST":
        try:
            rate = taxes.create_rate(request.form, actor=current_user.email)
        except DomainError as error:
            db.session.rollback()  # first: the page's reads must not flush the refused write
            return refused("admin/taxes.html", error, **_page_context())
        flash(f"Added {rate.name} for {rate.region or rate.country}.")
        return redirect(url_for("admin.tax_rates"), 303)
    return render_template("admin/taxes.html", form=MultiDict(), errors={}, **_page_context())


@bp.post("/<handle>/taxes/settings")
def tax_settings():
    require_manager(g.member)
    require_redis()  # the cached settings must be dropped: 503 before any write
    taxes.update_tax_settings(request.form, actor=current_user.email)
    flash("Saved how prices and shipping are taxed.")
    return redirect(url_for("admin.tax_rates"), 303)


@bp.route("/<handle>/taxes/<id:tax_rate_id>", methods=["GET", "POST"])
def tax_rate(tax_rate_id: int):
    require_manager(g.member)
    rate = taxes.get_rate(tax_rate_id)
    if request.method == "POST":
        try:
            rate = taxes.update_rate(tax_rate_id, request.form, actor=current_user.email)
        except DomainError as error:
            db.session.rollback()  # first: the page's reads must not flush the refused write
            if error.status == 404:
                raise
            return refused("admin/tax_rate.html", error, rate=rate)
        flash(f"Saved {rate.name} for {rate.region or rate.country}.")
        return redirect(url_for("admin.tax_rates"), 303)
    form = MultiDict({"place": rate.region or rate.country, "name": rate.name, "rate": percent_text(rate.rate)})
    return render_template("admin/tax_rate.html", rate=rate, form=form, errors=errors_of(None))


@bp.post("/<handle>/taxes/<id:tax_rate_id>/delete")
def delete_tax_rate(tax_rate_id: int):
    require_manager(g.member)
    taxes.delete_rate(tax_rate_id, actor=current_user.email)
    flash("Deleted the tax rate.")
    return redirect(url_for("admin.tax_rates"), 303)
