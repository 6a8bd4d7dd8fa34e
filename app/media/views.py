"""Serving stored media, only where it belongs.

A store's files (keys `<store id>/<hash>.<ext>` and their thumbnails) answer
on that store's own hosts while an active product (or the published theme:
a logo, a banner) shows them, and on the
platform host to the store's members (the dashboard), whatever the product's
status. Anything else is the same bare 404, whether or not the file exists.

Keys carry a content hash, so a URL's bytes never change: public answers may
be kept for a year by browsers and CDNs; a member's view of an active image
by the browser alone; a draft or archived product's image not at all.
"""
from flask import Blueprint, abort, g, send_file
from flask_login import current_user

from app.catalog.images import parse_key
from app.catalog.product_images import audience
from app.media.storage import storage
from app.theming.service import image_audience as theme_image_audience
from tenants.directory import membership
from tenants.errors import NotFound
from tenants.extension import use_store
from tenants.provisioning import placement_of

bp = Blueprint("media", __name__)
ONE_YEAR = 365 * 24 * 3600
CACHE = {
    ("store host", "public"): f"public, max-age={ONE_YEAR}, immutable",
    ("dashboard", "public"): f"private, max-age={ONE_YEAR}, immutable",
    ("dashboard", "dashboard"): "private, no-store",
}


@bp.get("/media/<path:key>")
def serve(key: str):
    media = parse_key(key)  # a key we make, or nothing: no traversal, no stray file under the root
    if media is None:
        abort(404)
    if g.get("store") is not None:
        where = "store host" if g.store.id == media.store_id else None
    else:
        where = "dashboard" if g.get("on_platform") and _enter_as_member(media.store_id) else None
    cache = CACHE.get((where, audience(media.originals) or theme_image_audience(media.originals))) if where else None
    path = storage().path(media.key)
    if cache is None or not path.is_file():
        abort(404)
    response = send_file(path, conditional=True)
    response.headers["Cache-Control"] = cache
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _enter_as_member(store_id: int) -> bool:
    """On the platform host: make the store current if the logged-in account belongs to it."""
    if not current_user.is_authenticated:
        return False
    try:
        member = membership(current_user, store_id)
    except NotFound:
        return False
    use_store(placement_of(member.store))
    return True
