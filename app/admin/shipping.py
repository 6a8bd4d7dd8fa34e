"""Shipping in the dashboard: zones (the places they serve) and their rates.
Owners and admins only: what shipping costs is what every shopper pays."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.admin import bp
from app.admin.pricing_forms import amount_text, errors_of, refused
from app.checkout import shipping
from app.checkout.models import MAX_RATES_PER_ZONE, MAX_ZONES
from app.domain_errors import DomainError
from app.extensions import db
from tenants.directory import require_manager


@bp.route("/<handle>/shipping", methods=["GET", "POST"])
def shipping_zones():
    require_manager(g.member)
    if request.method == "POST":
        try:
            zone = shipping.create_zone(request.form, actor=current_user.email)
        except DomainError as error:
            db.session.rollback()  # first: the page's reads must not flush the refused write
            return refused("admin/shipping.html", error, zones=shipping.zones_with_rates(), limit=MAX_ZONES)
        flash(f"Added the zone “{zone.name}”. Now give it a rate.")
        return redirect(url_for("admin.shipping_zone", zone_id=zone.id), 303)
    return render_template("admin/shipping.html", zones=shipping.zones_with_rates(), errors={}, form=MultiDict(),
                           limit=MAX_ZONES)


def _zone_form(zone) -> MultiDict:
    values = MultiDict({"name": zone.name, "places": " ".join(shipping.zone_places(zone.id))})
    if zone.rest_of_world:
        values.add("rest_of_world", "on")
    return values


def _zone_page(zone_id: int, *, form=None, rate_form=None, errors=None, rate_errors=None, status=200):
    zone = shipping.get_zone(zone_id)
    return render_template("admin/shipping_zone.html", zone=zone, rates=shipping.rates_of(zone.id),
                           form=form if form is not None else _zone_form(zone), errors=errors or {},
                           rate_form=rate_form if rate_form is not None else MultiDict(),
                           rate_errors=rate_errors or {}, rate_limit=MAX_RATES_PER_ZONE), status


@bp.route("/<handle>/shipping/zones/<id:zone_id>", methods=["GET", "POST"])
def shipping_zone(zone_id: int):
    require_manager(g.member)
    if request.method == "POST":
        try:
            zone = shipping.update_zone(zone_id, request.form, actor=current_user.email)
        except DomainError as error:
            db.session.rollback()
            if error.status == 404:
                raise
            return _zone_page(zone_id, form=request.form, errors=errors_of(error), status=error.status)
        flash(f"Saved the zone “{zone.name}”.")
        return redirect(url_for("admin.shipping_zone", zone_id=zone.id), 303)
    return _zone_page(zone_id)


@bp.post("/<handle>/shipping/zones/<id:zone_id>/delete")
def delete_shipping_zone(zone_id: int):
    require_manager(g.member)
    shipping.delete_zone(zone_id, actor=current_user.email)
    flash("Deleted the zone and its rates.")
    return redirect(url_for("admin.shipping_zones"), 303)


@bp.post("/<handle>/shipping/zones/<id:zone_id>/rates")
def new_shipping_rate(zone_id: int):
    require_manager(g.member)
    try:
        rate = shipping.create_rate(zone_id, request.form, actor=current_user.email)
    except DomainError as error:
        db.session.rollback()
        if error.status == 404:
            raise
        return _zone_page(zone_id, rate_form=request.form, rate_errors=errors_of(error), status=error.status)
    flash(f"Added the rate “{rate.name}”.")
    return redirect(url_for("admin.shipping_zone", zone_id=zone_id), 303)


def _rate_form(rate) -> MultiDict:
    values = MultiDict({"name": rate.name, "kind": rate.kind, "price": amount_text(rate.price) if rate.kind == "flat"
                        else "", "free_above": amount_text(rate.free_above)})
    for bracket in rate.brackets:
        values.add("bracket_min", str(bracket["min"]))
        values.add("bracket_max", "" if bracket["max"] is None else str(bracket["max"]))
        values.add("bracket_price", amount_text(bracket["price"]))
    return values


@bp.route("/<handle>/shipping/rates/<id:shipping_rate_id>", methods=["GET", "POST"])
def shipping_rate(shipping_rate_id: int):
    require_manager(g.member)
    rate = shipping.get_rate(shipping_rate_id)
    zone = shipping.get_zone(rate.zone_id)
    if request.method == "POST":
        try:
            rate = shipping.update_rate(shipping_rate_id, request.form, actor=current_user.email)
        except DomainError as error:
            db.session.rollback()  # first: the page's reads must not flush the refused write
            return refused("admin/shipping_rate.html", error, rate=rate, zone=zone)
        flash(f"Saved the rate “{rate.name}”.")
        return redirect(url_for("admin.shipping_zone", zone_id=rate.zone_id), 303)
    return render_template("admin/shipping_rate.html", rate=rate, zone=zone, form=_rate_form(rate), errors={})


@bp.post("/<handle>/shipping/rates/<id:shipping_rate_id>/delete")
def delete_shipping_rate(shipping_rate_id: int):
    require_manager(g.member)
    zone_id = shipping.delete_rate(shipping_rate_id, actor=current_user.email)
    flash("Deleted the rate.")
    return redirect(url_for("admin.shipping_zone", zone_id=zone_id), 303)
