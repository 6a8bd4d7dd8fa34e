"""`/` belongs to the platform on the platform host and to the storefront on a store's host."""
from flask import Blueprint, g

bp = Blueprint("root", __name__)


@bp.get("/")
def index():
    if g.get("store") is not None:
        from app.storefront.views import home
    else:
        from app.platform.views import home
    return home()


@bp.get("/healthz")
def healthz():
    return {"ok": True}
