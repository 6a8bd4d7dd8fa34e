from flask import Blueprint, abort, g

bp = Blueprint("storefront", __name__)


@bp.before_request
def store_host_only():
    if g.get("store") is None:
        abort(404)


from app.storefront import account, cart, launches, orders, reviews, views  # noqa: E402,F401
