"""Product CSV import (a background job with a live progress bar) and export."""
from __future__ import annotations

import tempfile
from datetime import datetime, timezone

from flask import abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app import parse
from app.admin import bp
from app.catalog.errors import CatalogError, invalid
from app.catalog.import_report import report_page, summary
from app.catalog.imports import (UPLOAD_KEEP_DAYS, can_retry, get_import, recent_imports, retry_import,
                                 start_import)

PROGRESS = "import-progress"  # the progress card's id: its polls get just the card


@bp.route("/<handle>/products/imports", methods=["GET", "POST"])
def imports():
    error = None
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise invalid("Choose a CSV file to import.", "file")
            job = start_import(upload.filename, upload.read(), actor=current_user.email)
        except CatalogError as failure:
            error = failure
        else:
            return _to_job(job)
    return render_template("admin/imports.html", jobs=recent_imports(), error=error), error.status if error else 200


@bp.get("/<handle>/products/imports/<token>")
def import_job(token: str):
    """The import's page; the progress card's own polls get just the card.
    Any other htmx request (a boosted link, the redirect after "Start
    import") gets the whole page, so the dashboard and the title come with it."""
    job = _job(token)
    page = parse.page_number(request.args)
    polled = request.headers.get("HX-Request") and request.headers.get("HX-Target") == PROGRESS
    template = "admin/_import_progress.html" if polled else "admin/import_job.html"
    return render_template(template, job=job, can_retry=can_retry(job), keep_days=UPLOAD_KEEP_DAYS,
                           summary=summary(job), report=None if job.active else report_page(job, page))


@bp.post("/<handle>/products/imports/<token>/retry")
def retry_import_job(token: str):
    """Go on with a failed import from the products it had not committed."""
    job = retry_import(_job(token))
    flash(f"Retrying the import of {job.filename}.")
    return redirect(url_for("admin.import_job", token=job.token))


def _to_job(job):
    """To the import's page, as a whole page: htmx (a boosted form) is told
    to load it (HX-Redirect) instead of swapping a response into this one."""
    target = url_for("admin.import_job", token=job.token)
    if request.headers.get("HX-Request"):
        return "", 204, {"HX-Redirect": target}
    return redirect(target)


def _job(token: str):
    try:
        return get_import(token)
    except CatalogError:
        abort(404, description="No such import in this store.")


@bp.get("/<handle>/products/export.csv")
def export_products():
    """`format` picks Shopify's classic or current columns (default classic).
    Written to a spooled temporary file while the store's context is
    active, then sent: a streamed body would outlive the request's store."""
    from app.catalog.csv_format import FORMATS, export_products as rows

    fmt = request.args.get("format", "classic")
    if fmt not in FORMATS:
        abort(400, description="Choose the export format: classic or current.")
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    for chunk in rows(base_url=request.host_url.rstrip("/"), format=fmt):
        spool.write(chunk.encode("utf-8"))
    spool.seek(0)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    return send_file(spool, mimetype="text/csv", as_attachment=True,
                     download_name=f"{g.store.handle}-products-{fmt}-{stamp}.csv")
