"""Locations and the inventory page across locations."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin import bp
from app.domain_errors import DomainError
from app.extensions import db
from app.inventory import service as inventory
from app.inventory.models import REASONS
from app.parse import checkbox, page_number, record_id


@bp.route("/<handle>/locations", methods=["GET", "POST"])
def locations():
    error = None
    if request.method == "POST":
        form = request.form
        try:
            if form.get("location_id"):
                inventory.update_location(record_id(form["location_id"], field="location_id", label="The location"),
                                          name=form.get("name", ""), address=form.get("address", ""),
                                          active=checkbox(form, "active"))
                flash("Location saved.")
            else:
                location = inventory.create_location(form.get("name", ""), form.get("address", ""))
                flash(f"Added {location.name}.")
        except DomainError as failure:
            error = failure
        else:
            return redirect(url_for("admin.locations"))
    return render_template("admin/locations.html", locations=inventory.locations(), error=error,
                           form=request.form if error else {}), error.status if error else 200


@bp.post("/<handle>/locations/<id:location_id>/move")
def move_location(location_id: int):
    """Move a location up or down the order stock is taken from (carts take
    from the first location that has enough)."""
    try:
        location = inventory.move_location(location_id, request.form.get("direction", ""))
    except DomainError as failure:
        db.session.rollback()
        return render_template("admin/locations.html", locations=inventory.locations(), error=failure,
                               form={}), failure.status
    flash(f"Moved {location.name} {'up' if request.form.get('direction') == 'up' else 'down'}.")
    return redirect(url_for("admin.locations"))


@bp.route("/<handle>/inventory", methods=["GET", "POST"])
def inventory_page():
    q = request.args.get("q", "").strip()[:200]
    page = page_number(request.args)  # before any write: a bad page changes nothing
    error = None
    if request.method == "POST":
        error = _set_count(request.form)
        if error is None:
            flash("Stock updated.")
            if not request.headers.get("HX-Request"):
                return redirect(request.full_path)
    rows, levels = inventory.overview(q=q, page=page)
    locations = inventory.locations(active_only=True)
    status = error.status if error else 200
    return render_template("admin/inventory.html", rows=rows, levels=levels, q=q, locations=locations,
                           reasons=REASONS, error=error, store=g.store), status


def _set_count(form) -> DomainError | None:
    """Set on hand from one cell of the page; the refusal, if any."""
    try:
        variant_id = record_id(form.get("variant_id"), field="variant_id", label="The variant")
        location_id = record_id(form.get("location_id"), field="location_id", label="The location")
        inventory.set_on_hand(variant_id, location_id, form.get("quantity"), reason=form.get("reason", "correction"),
                              note=form.get("note", ""), actor=current_user.email)
    except DomainError as failure:
        return failure
    return None
