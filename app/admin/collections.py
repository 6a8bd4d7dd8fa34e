"""Collections in the dashboard: manual (pick and order) and automated (rules)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for

from app import parse
from app.admin import bp
from app.admin.confirm import Choice, Confirmation, confirmation_page, confirmed
from app.catalog import collections as service
from app.catalog.errors import CatalogError
from app.catalog.models import Product
from app.domain_errors import DomainError
from app.extensions import db

TEMPLATE = "admin/collections/edit.html"


def _rules(form) -> list[dict]:
    return [{"field": field, "relation": relation, "value": value} for field, relation, value in
            zip(form.getlist("rule_field"), form.getlist("rule_relation"), form.getlist("rule_value"))]


def _collection(collection_id: int):
    try:
        return service.get_collection(collection_id)
    except CatalogError:
        abort(404, description="No such collection in this store.")


def _render(collection, *, error=None, form=None, status=None):
    # A manual collection's order is posted whole, so its page lists every product.
    limit = service.MAX_COLLECTION_PRODUCTS if collection.kind == "manual" else 250
    products = service.products_in(collection, limit=limit)
    candidates = []
    q = request.args.get("q", "").strip()
    if collection is not None and collection.kind == "manual" and q:
        candidates = list(db.session.scalars(sa.select(Product).where(Product.title.ilike(f"%{q}%"))
                                             .order_by(Product.title).limit(20)))
    return render_template(TEMPLATE, collection=collection, products=products, candidates=candidates, q=q,
                           error=error, form=form or {}, fields=service.FIELDS, relations=service.RELATIONS), \
        status or (error.status if error else 200)


COLLECTIONS_PER_PAGE = 50


@bp.get("/<handle>/collections")
def collections():
    page = parse.page_number(request.args)
    rows, total = service.list_collections(page, COLLECTIONS_PER_PAGE)
    pages = max(1, -(-total // COLLECTIONS_PER_PAGE))
    return render_template("admin/collections/list.html", collections=rows, total=total, page=page, pages=pages)


@bp.route("/<handle>/collections/new", methods=["GET", "POST"])
def new_collection():
    if request.method == "POST":
        form = request.form
        try:
            collection = service.create_collection(form, kind=form.get("kind", ""), match_all=form.get("match") != "any",
                                                   rules=_rules(form))
        except CatalogError as error:
            return render_template("admin/collections/new.html", error=error, form=form, fields=service.FIELDS,
                                   relations=service.RELATIONS), error.status
        flash(f"Created the collection “{collection.title}”.")
        return redirect(url_for("admin.edit_collection", collection_id=collection.id))
    return render_template("admin/collections/new.html", error=None, form={}, fields=service.FIELDS,
                           relations=service.RELATIONS)


@bp.route("/<handle>/collections/<id:collection_id>", methods=["GET", "POST"])
def edit_collection(collection_id: int):
    collection = _collection(collection_id)
    if request.method == "POST":
        form = request.form
        try:
            if form.get("delete") == "yes":
                if not confirmed(form):
                    return _confirm_delete(collection)
                service.delete_collection(collection)
                flash(f"Deleted the collection “{collection.title}”.")
                return redirect(url_for("admin.collections"))
            service.update_collection(collection, form, match_all=form.get("match") != "any",
                                      rules=_rules(form) if collection.kind == "automated" else None)
        except CatalogError as error:
            return _render(collection, error=error, form=form)
        flash("Collection saved.")
        return redirect(url_for("admin.edit_collection", collection_id=collection.id))
    return _render(collection)


def _confirm_delete(collection):
    return confirmation_page(Confirmation(
        title=f"Delete the collection “{collection.title}”?",
        message="The collection and its page in the store go; its products stay in the store. "
                "This cannot be undone.",
        action=url_for("admin.edit_collection", collection_id=collection.id),
        cancel_url=url_for("admin.edit_collection", collection_id=collection.id),
        confirm=Choice("Delete collection", "delete", "yes", style="danger")))


@bp.post("/<handle>/collections/<id:collection_id>/products")
def collection_products(collection_id: int):
    """Add a product to a manual collection (`add`), or save its products in
    the order posted (moves and removals)."""
    collection = _collection(collection_id)
    form = request.form
    try:
        if "add" in form:
            ids = [*service.product_ids(collection), parse.record_id(form["add"], field="products",
                                                                     label="The product to add")]
        else:
            ids = parse.record_ids(form.getlist("product_ids"), field="products", label="A product")
        service.set_products(collection, ids)
    except DomainError as error:
        return _render(collection, error=error)
    flash("Collection products saved.")
    return redirect(url_for("admin.edit_collection", collection_id=collection.id))
