"""Failed jobs in the dashboard (owners and admins): the store's dead letters
(side effects that failed every attempt, app.effects.dead_letters), each
with a "retry" once its cause is fixed, and "discard"."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from app import parse
from app.admin import bp
from app.effects import dead_letters
from app.effects.dispatch import max_attempts
from tenants.directory import require_manager


@bp.get("/<handle>/failed-jobs")
def failed_jobs():
    require_manager(g.member)
    page = dead_letters.dead_letters_page(parse.page_number(request.args))
    return render_template("admin/failed_jobs.html", page=page, summary=dead_letters.summary,
                           attempts=max_attempts())


@bp.post("/<handle>/failed-jobs/<id:outbox_id>/retry")
def retry_failed_job(outbox_id: int):
    require_manager(g.member)
    row = dead_letters.retry(outbox_id)
    flash(f"Retrying the {row.topic} job: it gets {max_attempts()} more attempts.")
    return redirect(url_for("admin.failed_jobs"), 303)


@bp.post("/<handle>/failed-jobs/<id:outbox_id>/discard")
def discard_failed_job(outbox_id: int):
    require_manager(g.member)
    dead_letters.discard(outbox_id)
    flash("Discarded the failed job: it will not run.")
    return redirect(url_for("admin.failed_jobs"), 303)
