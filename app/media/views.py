"""Serving stored media. Keys carry a content hash, so a URL's bytes never
change and browsers and CDNs may keep them for a year."""
from flask import Blueprint, abort, send_file

from app.media.storage import storage

bp = Blueprint("media", __name__)
ONE_YEAR = 365 * 24 * 3600


@bp.get("/media/<path:key>")
def serve(key: str):
    try:
        path = storage().path(key)
    except ValueError:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, max_age=ONE_YEAR, conditional=True)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
