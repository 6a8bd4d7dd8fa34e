"""The merchant dashboard: /dashboard/<handle>/..., one module per area."""
from flask import Blueprint, abort, g
from flask_login import current_user

from tenants.directory import membership_by_handle, stores_for
from tenants.errors import NotFound
from tenants.extension import use_store
from tenants.provisioning import placement_of

bp = Blueprint("admin", __name__, url_prefix="/dashboard")


@bp.url_value_preprocessor
def take_handle(endpoint, values):
    g.dashboard_handle = (values or {}).pop("handle", None)


@bp.before_request
def load_store():
    """Merchants only, on the platform host; every /dashboard/<handle>/ route
    acts on a store the merchant belongs to (anything else is a 404)."""
    if not g.get("on_platform"):
        abort(404)
    if not current_user.is_authenticated:
        from app.extensions import login_manager

        return login_manager.unauthorized()
    if g.dashboard_handle is None:
        return None
    try:
        g.member = membership_by_handle(current_user, g.dashboard_handle)
    except NotFound:
        abort(404, description="No such store on your account.")
    use_store(placement_of(g.member.store))
    return None


@bp.url_defaults
def keep_handle(endpoint, values):
    if "handle" not in values and g.get("member") is not None and endpoint != "admin.index":
        values["handle"] = g.member.store.handle


@bp.app_context_processor
def dashboard_context():
    if g.get("on_platform") and current_user.is_authenticated:
        return {"my_stores": stores_for(current_user)}
    return {}


@bp.app_template_global()
def money(amount, plain: bool = False):
    """Minor units in the current store's currency and locale: '1.999,00 €',
    or with `plain` what a price input is pre-filled with: '1.999,00'."""
    from app.money import format_input, format_money

    if plain:
        return format_input(amount, g.store.currency, g.store.locale)
    return format_money(amount, g.store.currency, g.store.locale)


@bp.app_template_global()
def image_url(key: str, size: int | None = None) -> str:
    from app.catalog.images import url

    return url(key, size)


from app.admin import (  # noqa: E402,F401
    collections, discounts, domains, failed_jobs, home, imports, inventory, launches, orders, pages, product_parts,
    products, reviews, settings, shipping, staff, taxes, theme_code, themes, webhooks,
)
