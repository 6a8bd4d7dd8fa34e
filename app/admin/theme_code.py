"""Template edits: the store's own version of a theme's templates.

A template is saved only once it compiles and renders a page of the
store's own data (`sample_context`) inside the sandbox and its budget; a
refused one answers 422 with the reason and its line, and nothing is
saved. Should a saved template still fail on some other page, the
storefront renders the theme's own template there (app.theming.render).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from app.admin import bp
from app.admin.confirm import Choice, Confirmation, confirmation_page, confirmed
from app.admin.themes import can_edit, preview_site
from app.extensions import db
from app.pages.service import published_pages
from app.parse import BadInput, bad
from app.storefront import catalog, pages
from app.storefront.listing import Listing
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

class _Captured(Exception):
    """Raised by `_Recorder` once a page has built its context: nothing is rendered."""

    def __init__(self, context: dict):
        super().__init__("context captured")
        self.context = context


@dataclass(frozen=True)
class _Recorder(Site):
    """A site whose pages stop as soon as they have built their context, so a
    template is tried with exactly what the shop would give it."""

    def context(self, **page) -> dict:
        raise _Captured(super().context(**page))


def _captured(site: Site, render_page) -> dict:
    try:
        render_page(_Recorder(site.live, site.routes, site.preview))
    except _Captured as captured:
        return captured.context
    raise RuntimeError("the page built no context")  # every page function renders through Site.context


# What each page template needs from the store before it can be tried, and how its page is built.
PAGES = {
    "index.html": (None, lambda site: pages.home(site)),
    "collections.html": (None, lambda site: pages.collections(site)),
    "404.html": (None, lambda site: pages.not_found(site)),
    "product.html": ("an active product", lambda site, h: pages.product(site, h)),
    "collection.html": ("a collection", lambda site, h: pages.collection(site, h, Listing.from_args({}))),
    "page.html": ("a published page", lambda site, h: pages.page(site, h)),
}


def _handles() -> dict[str, str | None]:
    """The store's own product, collection and page a template is tried on."""
    product, collection, page = catalog.newest(1), catalog.all_collections(limit=1), published_pages()[:1]
    return {"product.html": product[0].handle if product else None,
            "collection.html": collection[0].handle if collection else None,
            "page.html": page[0].handle if page else None}


def sample_context(site: Site, name: str) -> dict:
    """What `name` is rendered with to check it: for a page template, that
    page's own context built from the store's data (its newest active
    product, first collection, first published page); for a layout, snippet
    or section, every page's context together (a snippet may be included by
    any of them), with `item` (a product card) and `section` (the homepage's
    first section of that type, or a new one). A 422 when the store has
    nothing to try a page template on yet."""
    handles = _handles()
    if name in PAGES:
        needs, build = PAGES[name]
        if needs is None:
            return _captured(site, build)
        if handles[name] is None:
            raise bad(f"{name} is tried on {needs} of your store before it is saved: add {needs} first.", "source")
        return _captured(site, lambda s: build(s, handles[name]))
    context: dict = {}
    for page_name, (needs, build) in PAGES.items():
        if needs is None:
            context.update(_captured(site, build))
        elif handles[page_name] is not None:
            context.update(_captured(site, lambda s, b=build, h=handles[page_name]: b(s, h)))
    products = context.get("products") or next((s.get("products") for s in context.get("sections", ())
                                                 if s.get("products")), None)
    if products:
        context["item"] = products[0]
    context["section"] = _sample_section(site, context.get("sections", []), name)
    return {**context, "template": name}


def _sample_section(site: Site, sections: list[dict], name: str) -> dict | None:
    kind = name.removeprefix("sections/").removesuffix(".html") if name.startswith("sections/") else None
    found = next((s for s in sections if s["type"] == kind), None)
    if found is None and kind in site.live.theme.sections:  # a kind the homepage does not use (yet)
        found = {**clean_section(site.live.theme, {"type": kind}), "products": [], "collection": None}
    return found or (sections[0] if sections else None)
