"""Reviews in the dashboard: the moderation queue (pending first), approve and hide."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from app import parse
from app.admin import bp
from app.media.storage import storage
from app.reviews import service
from app.reviews.models import STATUSES

PER_PAGE = 25
DONE = {"approve": "Approved the review by {name}: it shows on the product page.",
        "hide": "Hid the review by {name}: shoppers no longer see it."}


def _status_filter(args) -> str | None:
    """The status to list (None: all of them); a status that is not one is a 400 (only links carry it)."""
    status = args.get("status", "")
    if status in ("", "all"):
        return None
    if status not in STATUSES:
        raise parse.bad("Choose a status from the list: pending, published or hidden.", "status", status=400)
    return status


@bp.get("/<handle>/reviews")
def reviews():
    status = _status_filter(request.args)
    page = service.for_moderation(status, parse.page_number(request.args), PER_PAGE)
    return render_template("admin/reviews.html", page=page, status=status, counts=service.status_counts(),
                           photo_key=service.photo_file_key)


@bp.post("/<handle>/reviews/<id:review_id>")
def moderate_review(review_id: int):
    form = request.form
    status = _status_filter(form)
    back = parse.page_number(form)
    review = service.moderate(review_id, form.get("action", ""), actor=current_user.email)
    flash(DONE[form["action"]].format(name=review.author_name))
    return redirect(url_for("admin.reviews", status=status, page=back if back > 1 else None), 303)


@bp.get("/<handle>/reviews/<id:review_id>/photo")
def review_photo(review_id: int):
    """A review's photo for its moderator, whatever its status (never cached by anyone else)."""
    key = service.photo_file_key(service.get_review(review_id))
    path = storage().path(key) if key else None
    if path is None or not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/webp", conditional=True)
    response.headers["Cache-Control"] = "private, no-store"
    return response
