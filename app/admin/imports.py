"""Product CSV import (a background job with a live progress bar) and export."""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Response, abort, g, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user

from app.admin import bp
from app.catalog.errors import CatalogError, invalid
from app.catalog.models import ImportJob
from app.extensions import db


def _recent_jobs() -> list[ImportJob]:
    return list(db.session.scalars(sa.select(ImportJob).order_by(ImportJob.created_at.desc()).limit(10)))


@bp.route("/<handle>/products/imports", methods=["GET", "POST"])
def imports():
    error = None
    if request.method == "POST":
        from app.catalog.imports import start_import

        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise invalid("Choose a CSV file to import.", "file")
            job = start_import(upload.filename, upload.read(), actor=current_user.email)
        except CatalogError as failure:
            error = failure
        else:
            return redirect(url_for("admin.import_job", token=job.token))
    return render_template("admin/imports.html", jobs=_recent_jobs(), error=error), error.status if error else 200


@bp.get("/<handle>/products/imports/<token>")
def import_job(token: str):
    job = db.session.scalar(sa.select(ImportJob).where(ImportJob.token == token))
    if job is None:
        abort(404, description="No such import in this store.")
    template = "admin/_import_progress.html" if request.headers.get("HX-Request") else "admin/import_job.html"
    return render_template(template, job=job)


@bp.get("/<handle>/products/export.csv")
def export_products():
    from app.catalog.csv_format import export_products as rows

    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    filename = f"{g.store.handle}-products-{stamp}.csv"
    base_url = request.host_url.rstrip("/")
    return Response(stream_with_context(rows(base_url=base_url)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
