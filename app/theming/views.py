"""Theme assets, on every host: /assets/<theme>/<fingerprint>/<file>."""
from __future__ import annotations

from flask import Blueprint, abort, send_file

from app.theming.registry import fingerprint, get_theme

bp = Blueprint("theming", __name__)
YEAR = 31_536_000


@bp.get("/assets/<theme_name>/<digest>/<path:name>")
def asset(theme_name: str, digest: str, name: str):
    theme = get_theme(theme_name) if theme_name.isidentifier() else None
    path = theme.asset_path(name) if theme is not None else None
    if path is None:
        abort(404)
    response = send_file(path, conditional=True, max_age=60)
    if digest == fingerprint(path):  # the URL names exactly these bytes: cache them for good
        response.cache_control.max_age = YEAR
        response.cache_control.public = True
        response.cache_control.immutable = True
    return response
