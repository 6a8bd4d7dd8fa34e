"""Static pages (about, contact, policies) in the dashboard: list, create,
edit and delete, through app.pages.service. Shoppers see published pages at
/pages/<handle>; the theme's footer links them."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import parse
from app.admin import bp
from app.admin.confirm import Choice, Confirmation, confirmation_page, confirmed
from app.extensions import db
from app.pages import service
from app.pages.models import Page
from app.parse import BadInput

EDIT_TEMPLATE = "admin/pages/edit.html"
# The page's inputs, by the field a service error names.
TARGETS = {"title": "page-title", "handle": "page-handle", "body_html": "page-body",
           "seo_description": "page-seo"}


@bp.get("/<handle>/pages")
def static_pages():
    return render_template("admin/pages/list.html", pages=service.all_pages(), limit=service.MAX_PAGES)


@bp.route("/<handle>/pages/new", methods=["GET", "POST"])
def new_static_page():
    if request.method == "GET":
        return _editor(None, {"published": True})
    try:
        page = service.create_page(request.form, actor=current_user.email)
    except BadInput as error:
        return _refused(None, error)
    flash(f"Created the page “{page.title}”.")
    return redirect(url_for("admin.edit_static_page", page_id=page.id))


@bp.route("/<handle>/pages/<id:page_id>", methods=["GET", "POST"])
def edit_static_page(page_id: int):
    page = service.get_page(page_id)
    if request.method == "GET":
        return _editor(page, _values(page))
    if request.form.get("delete") == "yes":
        return _delete(page)
    try:
        service.update_page(page, request.form, actor=current_user.email)
    except BadInput as error:
        return _refused(page, error)
    flash("Page saved.")
    return redirect(url_for("admin.edit_static_page", page_id=page.id))


def _values(page: Page) -> dict:
    return {"title": page.title, "handle": page.handle, "body_html": page.body_html, "published": page.published,
            "seo_description": page.seo_description}


def _editor(page: Page | None, form: dict, error: BadInput | None = None):
    return render_template(EDIT_TEMPLATE, page=page, form=form, error=error, targets=TARGETS), \
        error.status if error else 200


def _refused(page: Page | None, error: BadInput):
    """What was typed, with the message; nothing was saved."""
    db.session.rollback()
    typed = {**request.form.to_dict(), "published": parse.checkbox(request.form, "published")}
    return _editor(page, typed, error)


def _delete(page: Page):
    if not confirmed(request.form):
        here = url_for("admin.edit_static_page", page_id=page.id)
        return confirmation_page(Confirmation(
            title=f"Delete the page “{page.title}”?",
            message=f"The page and its address /pages/{page.handle} go; links to it will find nothing. "
                    "This cannot be undone.",
            action=here, cancel_url=here, confirm=Choice("Delete page", "delete", "yes", style="danger")))
    title = page.title
    service.delete_page(page, actor=current_user.email)
    flash(f"Deleted the page “{title}”.")
    return redirect(url_for("admin.static_pages"))
