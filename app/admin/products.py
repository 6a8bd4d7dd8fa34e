"""Products in the dashboard: the list (search, filters, sort, pages, bulk
actions), creating a product, and editing its details."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import parse_qsl, urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app import parse
from app.admin import bp
from app.admin.confirm import Choice, Confirmation, confirmation_page, confirmed
from app.catalog import pending_images, products as catalog
from app.catalog.errors import CatalogError
from app.catalog.models import STATUSES, WEIGHT_UNITS
from app.catalog.products import OptionSpec
from app.catalog.queries import SORTS, STOCK_FILTERS, ProductQuery, list_products
from app.domain_errors import DomainError
from app.inventory import reservations, service as inventory
from app.inventory.models import REASON_LABELS, REASONS

MAX_OPTION_VALUES_CHARS = 50_000  # 2,048 values of about 24 characters
VARIANTS_PER_PAGE = 50  # variant rows (and stock rows) per editor page


def options_from_form(form) -> list[OptionSpec]:
    """Option rows posted as option_name_1.. and option_values_1.. (comma
    separated). A values field is bounded before it is split, so a huge post
    costs no more to refuse than a small one."""
    options = []
    for i in range(1, 5):
        if f"option_name_{i}" in form:
            name = parse.text(form.get(f"option_name_{i}"), field="options", label=f"The name of option {i}",
                              max_length=255)
            values = parse.text(form.get(f"option_values_{i}"), field="options",
                                label=f"The values of option {i}", max_length=MAX_OPTION_VALUES_CHARS)
            options.append(OptionSpec(name, values.split(",")))
    return options


@bp.get("/<handle>/products")
def products():
    listing = list_products(ProductQuery.from_args(request.args))
    context = {"listing": listing, "sorts": SORTS, "stock_filters": STOCK_FILTERS, "statuses": STATUSES}
    if request.headers.get("HX-Target") == "product-results":
        return render_template("admin/products/_results.html", **context)
    return render_template("admin/products/list.html", **context)


BULK_DONE = {"publish": "published", "draft": "set as draft", "archive": "archived", "tag": "tagged",
             "delete": "deleted"}
CONFIRM_LISTS = 20  # products named on the delete confirmation; the rest are counted


@bp.post("/<handle>/products/bulk")
def products_bulk():
    form = request.form
    # Back to the list as it was: its query string, re-encoded (never echoed as typed into the redirect).
    query = urlencode(parse_qsl(form.get("query", "")[:2000]))
    back = url_for("admin.products") + (f"?{query}" if query else "")
    action = form.get("action", "")
    if action not in BULK_DONE:
        return _list_refused(query, "Choose an action for the selected products first; nothing was changed.", 400)
    ids = parse.record_ids(form.getlist("ids"), field="ids", label="A selected product")
    if not ids:
        flash("Select at least one product first.")
        return redirect(back)
    if action == "delete" and not confirmed(form):
        return _confirm_delete(ids, query, back)
    try:
        count = catalog.bulk_update(ids, action, tag=form.get("tag", ""), actor=current_user.email)
    except CatalogError as error:
        return _list_refused(query, error.message, error.status)
    flash(f"{count} product{'s' * (count != 1)} {BULK_DONE[action]}.")
    return redirect(back)


def _list_refused(query: str, message: str, status: int):
    """The list as the merchant left it, with why nothing happened."""
    listing = list_products(ProductQuery.from_args(MultiDict(parse_qsl(query))))
    return render_template("admin/products/list.html", listing=listing, sorts=SORTS, stock_filters=STOCK_FILTERS,
                           statuses=STATUSES, refusal=message), status


def _confirm_delete(ids: list[int], query: str, back: str):
    titles, total = catalog.product_titles(ids, limit=CONFIRM_LISTS)
    if not total:
        flash("Those products are already gone.")
        return redirect(back)
    noun = f"{total} product{'s' * (total != 1)}"
    return confirmation_page(Confirmation(
        title=f"Delete {noun}?",
        message=f"Deleting removes {'them' if total != 1 else 'it'} with every variant, image and stock count, "
                "and cannot be undone. Archiving hides them from the store and can be undone at any time.",
        action=url_for("admin.products_bulk"), cancel_url=back, items=titles, more=total - len(titles),
        fields=[("query", query), *(("ids", str(i)) for i in ids)],
        alternatives=[Choice(f"Archive {noun} instead", "action", "archive", style="")],
        confirm=Choice(f"Delete {noun}", "action", "delete", style="danger")))


@bp.route("/<handle>/products/new", methods=["GET", "POST"])
def new_product():
    form, error = request.form, None
    if request.method == "POST":
        try:
            product = catalog.create_product(form, options=options_from_form(form), actor=current_user.email)
        except DomainError as failure:
            error = failure
        else:
            flash(f"Created “{product.title}”.")
            return redirect(url_for("admin.edit_product", product_id=product.id))
    return render_template("admin/products/new.html", form=form, error=error, statuses=STATUSES), \
        error.status if error else 200


@bp.route("/<handle>/products/<id:product_id>", methods=["GET", "POST"])
def edit_product(product_id: int):
    """The editor; a pager link's htmx request gets just the variant pages."""
    page = parse.page_number(request.args)
    product = _product(product_id)
    error = None
    if request.method == "POST":
        try:
            catalog.update_product(product, request.form, actor=current_user.email)
        except CatalogError as failure:
            error = failure
        else:
            flash("Product saved.")
            return redirect(url_for("admin.edit_product", product_id=product.id))
    if request.method == "GET" and request.headers.get("HX-Target") == "variant-pages":
        return render_editor(product, section="variant_pages", page=page)
    return render_editor(product, error=error, form=request.form if error else None, page=page)


def _product(product_id: int):
    try:
        return catalog.get_product(product_id)
    except CatalogError:
        abort(404, description="No such product in this store.")


@dataclass
class VariantPage:
    """The variant rows the editor shows: page `number` of `pages`."""
    number: int
    pages: int
    total: int
    variants: list

    @property
    def first(self) -> int:
        return (self.number - 1) * VARIANTS_PER_PAGE + 1

    @property
    def last(self) -> int:
        return self.first + len(self.variants) - 1


def variant_page(product, number: int) -> VariantPage:
    total = len(product.variants)
    pages = max(1, -(-total // VARIANTS_PER_PAGE))
    number = min(number, pages)  # past the end (variants were removed meanwhile): the last page
    start = (number - 1) * VARIANTS_PER_PAGE
    return VariantPage(number, pages, total, product.variants[start:start + VARIANTS_PER_PAGE])


def page_of(product, variant_id: int) -> int:
    """The editor page that shows this variant's row."""
    index = next((i for i, v in enumerate(product.variants) if v.id == variant_id), 0)
    return index // VARIANTS_PER_PAGE + 1


def render_editor(product, *, error=None, form=None, section=None, active=None, status=None, page: int = 1):
    """The product editor page, or one `section` of it for htmx, showing
    variant page `page`. `active` (default: the section) names the section
    the request was about: its messages show there."""
    locations = inventory.locations(active_only=True)
    shown = variant_page(product, page)
    context = {
        "product": product, "error": error, "form": form, "statuses": STATUSES, "reasons": REASONS,
        "reason_labels": REASON_LABELS,
        "locations": locations, "variant_page": shown, "levels": inventory.levels([v.id for v in shown.variants]),
        "location_names": {location.id: location.name for location in inventory.locations()},
        "variant_titles": {variant.id: variant.title for variant in product.variants},
        "shared_skus": catalog.sku_sharers(shown.variants),
        "weight_units": WEIGHT_UNITS,
        "history": inventory.product_history(product.id), "active": active or section,
        "reservations": reservation_rows([v.id for v in shown.variants]),
        "pending_images": pending_images.of_product(product.id),
    }
    template = f"admin/products/_{section}.html" if section else "admin/products/edit.html"
    code = status or (error.status if error else 200)
    return render_template(template, **context), code


@dataclass(frozen=True)
class ReservationRow:
    holder: str  # shortened: a cart's token is the shopper's key to it
    variant_id: int
    location_id: int
    quantity: int
    expires_in: str


def reservation_rows(variant_ids: list[int]) -> list[ReservationRow]:
    """The active reservations of these variants, as the stock section lists them."""
    now = datetime.now(timezone.utc)
    return [ReservationRow(short_holder(row.holder), row.variant_id, row.location_id, row.quantity,
                           _expires_in((row.expires_at - now).total_seconds()))
            for row in reservations.active_reservations(variant_ids)]


def short_holder(holder: str) -> str:
    kind, _, key = holder.rpartition(":")
    return f"{kind}:{key[:6]}…" if kind else f"{key[:6]}…"


def _expires_in(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


@bp.app_template_global()
def product_query_string(query: ProductQuery, **changes) -> str:
    """The list's query string with some arguments changed (pages, bulk actions)."""
    return urlencode(query.args(**changes))
