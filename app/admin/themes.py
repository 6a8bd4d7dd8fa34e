"""Online store in the dashboard: the theme gallery, the customizer (settings
and homepage sections, saved as a draft and shown in a preview frame) and
publishing. Template edits are in app/admin/theme_code.py.

The preview renders the storefront's own pages (app.storefront.pages) with
the theme's draft, under /dashboard/<handle>/themes/<theme>/preview/, so a
merchant sees exactly what shoppers will see once it is published.
"""
from __future__ import annotations

from datetime import datetime

from flask import flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import NotFound

from app.admin import bp
from app.admin import theme_form
from app.catalog.images import discard, save_files
from app.extensions import db
from app.parse import BadInput
from app.security import STOREFRONT_CSP
from app.storefront import catalog, pages
from app.storefront.listing import Listing
from app.storefront.site import Routes, Site
from app.theming import service
from app.theming.registry import FONT_STACKS, Theme
from app.theming.render import asset_url
from tenants.directory import require_manager

PREVIEW_RELOAD = "preview-reload"  # the event customizer.js reloads the preview frame on
TEMPLATE = "admin/themes/customize.html"


def can_edit() -> bool:
    return g.member.role in ("owner", "admin")


@bp.get("/<handle>/themes")
def themes():
    rows = service.rows()
    cards = [{"theme": theme, "row": rows.get(theme.name),
              "preview": asset_url(theme, theme.preview) if theme.preview else ""} for theme in service.offered()]
    live = next((card for card in cards if card["row"] is not None and card["row"].live), None)
    return render_template("admin/themes/gallery.html", cards=cards, live=live, can_edit=can_edit())


@bp.get("/<handle>/themes/<theme_name>/customize")
def customize_theme(theme_name: str):
    theme = service.theme_or_404(theme_name)
    return _customizer(theme)


def _customizer(theme: Theme, *, state: dict | None = None, errors: dict | None = None, message: str | None = None,
                status: int = 200, fragment: bool = False, headers: dict | None = None):
    """The customizer page (or only its form, for htmx), showing `state` (the saved draft by default)."""
    draft = service.draft(theme)
    if state is None:
        state = {"settings": draft.settings, "sections": draft.sections}
    row = service.rows().get(theme.name)
    context = dict(theme=theme, state=state, errors=errors or {}, message=message, row=row,
                   groups=_groups(theme), fonts=FONT_STACKS, collections=catalog.all_collections(),
                   sample_products=catalog.newest(1),
                   can_edit=can_edit(), field_id=theme_form.field_id,
                   preview_url=url_for("admin.theme_preview", theme_name=theme.name))
    template = "admin/themes/_customizer_form.html" if fragment else TEMPLATE
    return render_template(template, **context), status, headers or {}


def _groups(theme: Theme) -> list[tuple[str, list[dict]]]:
    """The theme's settings by their "group", in the order the theme lists them."""
    groups: dict[str, list[dict]] = {}
    for setting in theme.settings:
        groups.setdefault(setting.get("group", "Other"), []).append(setting)
    return list(groups.items())


@bp.post("/<handle>/themes/<theme_name>/draft")
def save_theme_draft(theme_name: str):
    """Keep the customizer's form as the theme's draft. With htmx: a status line (and
    the form again when its shape changed), plus the event that reloads the preview."""
    require_manager(g.member)
    theme = service.theme_or_404(theme_name)
    htmx = bool(request.headers.get("HX-Request"))
    try:
        posted = theme_form.read(theme, request.form, request.files)
    except BadInput as error:  # a stale or forged form: show the saved draft with the message
        return _refused(theme, None, {error.field or "sections": error.message}, htmx)
    theme_form.check_fields(theme, posted)
    if posted.errors:
        return _refused(theme, posted, posted.errors, htmx)
    written: list[str] = []
    try:
        for prepared in posted.prepared:
            written += save_files(prepared)
        service.save_draft(theme, posted.settings, posted.sections, actor=current_user.email)
    except BadInput as error:
        db.session.rollback()
        discard(written)
        return _refused(theme, posted, {error.field or "sections": error.message}, htmx)
    reshaped = bool(request.form.get("op") or posted.prepared)
    return _saved(theme, htmx, reshaped)


def _saved(theme: Theme, htmx: bool, reshaped: bool):
    if not htmx:
        flash("Draft saved. Shoppers see it once you publish.")
        return redirect(url_for("admin.customize_theme", theme_name=theme.name))
    message = f"Draft saved at {datetime.now().astimezone():%H:%M:%S}."
    headers = {"HX-Trigger": PREVIEW_RELOAD}
    if reshaped:  # sections were added, moved or removed, or an image changed: the form itself changes
        headers.update({"HX-Retarget": "#customizer-form", "HX-Reswap": "outerHTML"})
        return _customizer(theme, message=message, fragment=True, headers=headers)
    return render_template("admin/themes/_status.html", message=message), 200, headers


def _refused(theme: Theme, posted, errors: dict, htmx: bool):
    """422 with each message beside its field; nothing was saved."""
    db.session.rollback()
    state = None  # a form that could not be read: the saved draft is shown again
    if posted is not None:  # what was typed, over the saved draft
        saved = service.draft(theme)
        state = {"settings": {**saved.settings, **posted.settings},
                 "sections": saved.sections if posted.sections is None else posted.sections}
    headers = {"HX-Retarget": "#customizer-form", "HX-Reswap": "outerHTML"} if htmx else {}
    return _customizer(theme, state=state, errors=errors, status=422, fragment=htmx, headers=headers)


@bp.post("/<handle>/themes/<theme_name>/publish")
def publish_theme(theme_name: str):
    require_manager(g.member)
    theme = service.theme_or_404(theme_name)
    service.publish(theme, actor=current_user.email)
    flash(f"Published the {theme.title} theme: shoppers see it now.")
    if request.form.get("next") == "gallery":
        return redirect(url_for("admin.themes"))
    return redirect(url_for("admin.customize_theme", theme_name=theme.name))


# -- the preview ------------------------------------------------------------------------------------------------------

@bp.get("/<handle>/themes/<theme_name>/preview/", defaults={"rest": ""})
@bp.get("/<handle>/themes/<theme_name>/preview/<path:rest>")
def theme_preview(theme_name: str, rest: str):
    """A storefront page with the theme's draft, framed by the customizer."""
    theme = service.theme_or_404(theme_name)
    site = preview_site(theme)
    try:
        body, status = _preview_page(site, rest), 200
    except NotFound:
        body, status = pages.not_found(site), 404
    # The storefront's policy (themes may use inline styles), framed by the dashboard only.
    return body, status, {"Content-Security-Policy": STOREFRONT_CSP, "X-Frame-Options": "SAMEORIGIN",
                          "Cache-Control": "private, no-store"}


def preview_site(theme: Theme) -> Site:
    prefix = url_for("admin.theme_preview", theme_name=theme.name).rstrip("/")
    return Site(service.draft(theme), Routes(prefix=prefix), preview=True)


def _preview_page(site: Site, rest: str) -> str:
    kind, _, handle = rest.partition("/")
    if rest == "":
        return pages.home(site)
    if rest == "collections":
        return pages.collections(site)
    if kind == "collections" and handle:
        return pages.collection(site, handle, Listing.from_args(request.args))
    if kind == "products" and handle:
        return pages.product(site, handle, _variant_arg(), _chosen_options())
    if kind == "pages" and handle:
        return pages.page(site, handle)
    raise NotFound()


def _variant_arg() -> int | None:
    raw = request.args.get("variant", "")
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else None


def _chosen_options() -> tuple[str, ...]:
    return tuple(request.args.get(f"option{n}", "")[:255] for n in (1, 2, 3) if f"option{n}" in request.args)
