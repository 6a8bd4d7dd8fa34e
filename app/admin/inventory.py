"""Locations and the inventory page across locations."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin import bp
from app.inventory import service as inventory
from app.inventory.models import REASONS
from app.inventory.service import InventoryError


@bp.route("/<handle>/locations", methods=["GET", "POST"])
def locations():
    error = None
    if request.method == "POST":
        form = request.form
        try:
            if form.get("location_id", "").isdigit():
                inventory.update_location(int(form["location_id"]), name=form.get("name", ""),
                                          address=form.get("address", ""), active=form.get("active") == "on")
                flash("Location saved.")
            else:
                location = inventory.create_location(form.get("name", ""), form.get("address", ""))
                flash(f"Added {location.name}.")
        except InventoryError as failure:
            error = failure
        else:
            return redirect(url_for("admin.locations"))
    return render_template("admin/locations.html", locations=inventory.locations(), error=error,
                           form=request.form if error else {}), error.status if error else 200


@bp.route("/<handle>/inventory", methods=["GET", "POST"])
def inventory_page():
    error = None
    if request.method == "POST":
        form = request.form
        try:
            inventory.set_on_hand(int(form.get("variant_id", "0")), int(form.get("location_id", "0")),
                                  form.get("quantity"), reason=form.get("reason", "correction"),
                                  note=form.get("note", ""), actor=current_user.email)
        except InventoryError as failure:
            error = failure
        except ValueError:
            error = InventoryError(inventory.InventoryErrorCode.INVALID, "Choose a variant and a location.")
        else:
            flash("Stock updated.")
            if not request.headers.get("HX-Request"):
                return redirect(request.full_path)
    q = request.args.get("q", "").strip()[:200]
    page = int(request.args["page"]) if request.args.get("page", "").isdigit() else 1
    rows, levels, total = inventory.overview(q=q, page=max(1, page))
    locations = inventory.locations(active_only=True)
    status = error.status if error else 200
    return render_template("admin/inventory.html", rows=rows, levels=levels, total=total, q=q, page=max(1, page),
                           locations=locations, reasons=REASONS, error=error, store=g.store), status
