"""Template edits: the store's own version of a theme's templates.

A template is saved only once it compiles and renders a page of the
store's own data (`sample_context`) inside the sandbox and its budget; a
refused one answers 422 with the reason and its line, and nothing is
saved. Should a saved template still fail on some other page, the
storefront renders the theme's own template there (app.theming.render).
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from app.admin import bp
from app.admin.confirm import Choice, Confirmation, confirmation_page, confirmed
from app.admin.themes import can_edit, preview_site
from app.extensions import db
from app.pages.service import published_pages
from app.parse import BadInput
from app.storefront import catalog
from app.storefront.listing import Listing, Pagination, Result, SORTS
from app.storefront.pages import _section  # a homepage section with the products it shows
from app.storefront.shapes import CollectionView, ProductView, VariantView, collection_view, product_view
from app.storefront.site import Site
from app.theming import service
from app.theming.registry import Theme
from app.theming.settings import clean_section
from tenants.directory import require_manager

EDIT_TEMPLATE = "admin/themes/template.html"


@bp.get("/<handle>/themes/<theme_name>/code")
def theme_code(theme_name: str):
    theme = service.theme_or_404(theme_name)
    overridden = service.overrides(theme.name)
    return render_template("admin/themes/code.html", theme=theme, names=theme.template_names(),
                           overridden=overridden, can_edit=can_edit())


@bp.route("/<handle>/themes/<theme_name>/code/<path:name>", methods=["GET", "POST"])
def theme_template(theme_name: str, name: str):
    theme = service.theme_or_404(theme_name)
    if name not in theme.template_names():
        abort(404, description="That template is not part of this theme.")
    if request.method == "GET":
        return _editor(theme, name)
    require_manager_role()
    if request.form.get("reset") == "yes":
        return _reset(theme, name)
    source = request.form.get("source", "")
    try:
        service.save_override(theme, name, source, sample_context(preview_site(theme), name),
                              actor=current_user.email)
    except BadInput as error:
        db.session.rollback()
        return _editor(theme, name, source=source, error=error.message, status=error.status)
    flash(f"Saved your version of {name}. Shoppers see it at once.")
    return redirect(url_for("admin.theme_template", theme_name=theme.name, name=name))


def require_manager_role() -> None:
    require_manager(g.member)


def _editor(theme: Theme, name: str, *, source: str | None = None, error: str | None = None, status: int = 200):
    overridden = service.overrides(theme.name)
    if source is None:
        source = overridden.get(name, theme.template_source(name) or "")
    return render_template(EDIT_TEMPLATE, theme=theme, name=name, source=source, error=error,
                           overridden=name in overridden, can_edit=can_edit()), status


def _reset(theme: Theme, name: str):
    if name not in service.overrides(theme.name):
        flash(f"{name} is already the theme’s own.")
        return redirect(url_for("admin.theme_template", theme_name=theme.name, name=name))
    if not confirmed(request.form):
        here = url_for("admin.theme_template", theme_name=theme.name, name=name)
        return confirmation_page(Confirmation(
            title=f"Reset {name} to the theme’s own?",
            message="Your version of this template is deleted and shoppers see the theme’s own again. "
                    "This cannot be undone.",
            action=here, cancel_url=here, confirm=Choice("Reset to theme default", "reset", "yes", style="danger")))
    service.delete_override(theme, name, actor=current_user.email)
    flash(f"{name} is the theme’s own again.")
    return redirect(url_for("admin.theme_template", theme_name=theme.name, name=name))


# -- a page of the store's own data to test-render a template with ---------------------------------------------------

def sample_context(site: Site, name: str) -> dict:
    """Everything any of the theme's templates may expect, from the store's
    own data (made-up stand-ins where the store has none yet): its first
    active product, its first collection, a page, the homepage sections, and
    for a section template a section of that type."""
    product = _sample_product(site)
    collection = _sample_collection(site)
    cards = catalog.cards(catalog.newest(4), site.routes) or [product]
    sections = [_section(site, s) for s in site.live.sections]
    kind = name.removeprefix("sections/").removesuffix(".html") if name.startswith("sections/") else None
    section = next((s for s in sections if s["type"] == kind), None) or _new_section(site, kind) or \
        (sections[0] if sections else None)
    pagination = Pagination(1, 1, len(cards), None, None)
    listing = Result(cards, pagination, "featured", list(SORTS.items()), False, [], Listing().args(page=None))
    page = _sample_page()
    return site.context(
        template=name, page_title="Sample page", meta_description="", canonical=site.routes.home(),
        product=product, item=cards[0], products=cards, collection=collection, collections=[collection],
        listing=listing, pagination=pagination, page=page, sections=sections, section=section)


def _sample_product(site: Site) -> ProductView:
    found = catalog.newest(1)
    if found:
        product = found[0]
        return product_view(product, catalog.stock_of([product]), site.routes.product(product.handle))
    variant = VariantView(0, "Default", (), 2500, None, True, None, "SAMPLE")
    return ProductView(id=0, handle="sample-product", url=site.routes.product("sample-product"), title="Sample product",
                       vendor="", product_type="", price_min=2500, price_max=2500, compare_at_price=None,
                       available=True, image=None, hover_image=None, variants=(variant,), selected=variant)


def _sample_collection(site: Site) -> CollectionView:
    found = catalog.all_collections(limit=1)
    if found:
        return collection_view(found[0], site.routes.collection(found[0].handle))
    return CollectionView(0, "sample", site.routes.collection("sample"), "Sample collection", Markup(""))


def _sample_page() -> dict:
    found = published_pages()[:1]
    if found:
        return {"title": found[0].title, "handle": found[0].handle, "body_html": Markup(found[0].body_html)}
    return {"title": "Sample page", "handle": "sample", "body_html": Markup("<p>Sample text.</p>")}


def _new_section(site: Site, kind: str | None) -> dict | None:
    """A section of that type with its defaults (the homepage may not use it yet)."""
    if kind is None or kind not in site.live.theme.sections:
        return None
    return _section(site, clean_section(site.live.theme, {"type": kind}))
