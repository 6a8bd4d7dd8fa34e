"""Launches in the dashboard: the list, a new waiting room or draw, one
launch's page (the line's numbers; the draw's seed, winners and claims),
drawing, and ending a launch."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import parse
from app.admin import bp
from app.domain_errors import DomainError
from app.extensions import RedisUnavailable
from app.launches import draw, room, service
from app.launches.service import LaunchRefused, info_of, utcnow

FIELDS = ("kind", "product_id", "starts_at", "entry_ends_at", "ends_at", "rate_per_minute", "winners", "pass_minutes")


@bp.route("/<handle>/launches", methods=["GET", "POST"])
def launches():
    page_number = parse.page_number(request.args)  # before any write: a bad page changes nothing
    error, form = None, {}
    if request.method == "POST":
        form = {name: str(request.form.get(name, ""))[:100] for name in FIELDS}
        try:
            launch = service.create_launch(request.form, actor=current_user.email)
        except DomainError as refused:
            error = refused
        else:
            flash(f"Set up the {'waiting room' if launch.kind == 'queue' else 'draw'}. From now on the product "
                  "sells only with a pass, until the launch ends.")
            return redirect(url_for("admin.launch", launch_id=launch.id), 303)
    errors = error.errors if isinstance(error, LaunchRefused) else ({error.field or "form": error.message}
                                                                    if error else {})
    return render_template("admin/launches.html", page=service.launches_page(page_number),
                           products=service.product_choices(), error=error, errors=errors, form=form,
                           limit=service.MAX_LAUNCHES), error.status if error else 200


@bp.get("/<handle>/launches/<id:launch_id>")
def launch(launch_id: int):
    found = service.get_launch(launch_id)
    title = service.product_title(found.product_id)
    line, results, counts, verified, entries = None, [], {}, None, 0
    if found.kind == "queue" and found.status != "ended":
        try:
            line = room.stats(info_of(found, "", title), utcnow())
        except RedisUnavailable:
            line = None
    if found.kind == "draw":
        entries, counts = draw.entry_count(found.id), draw.status_counts(found.id)
        results = draw.results(found.id)
        verified = draw.replay(found) if found.seed else None
    entries_open = found.kind == "draw" and found.entry_ends_at > utcnow()
    return render_template("admin/launch.html", launch=found, title=title, line=line, results=results,
                           counts=counts, verified=verified, entries=entries, entries_open=entries_open)


@bp.post("/<handle>/launches/<id:launch_id>/draw")
def draw_winners(launch_id: int):
    found = draw.run_draw(launch_id)
    flash(f"Drew the winners (seed {found.seed}); their passes are being emailed.")
    return redirect(url_for("admin.launch", launch_id=launch_id), 303)


@bp.post("/<handle>/launches/<id:launch_id>/end")
def end_launch(launch_id: int):
    service.end_launch(launch_id)
    flash("Ended the launch: the product sells as usual again.")
    return redirect(url_for("admin.launch", launch_id=launch_id), 303)
