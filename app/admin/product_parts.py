"""Parts of the product editor that save on their own, each answering with
its section of the page: options, a variant row, images, stock. Each form
posts the variant page it was shown on (`page`), and the answer shows that
page again."""
from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user

from app import parse
from app.admin import bp, image_url
from app.admin.confirm import Choice, Confirmation, confirmation_page, confirmed
from app.admin.products import _product, options_from_form, page_of, render_editor
from app.catalog import imports, pending_images, product_images, products as catalog
from app.catalog.errors import invalid
from app.catalog.product_images import MAX_IMAGES
from app.domain_errors import DomainError
from app.inventory import gate, service as inventory


def _answer(product, section: str, *, page: int, error=None, message: str = "", swap: str | None = None):
    """htmx gets the section back (or the part named by `swap`); a plain
    form post goes back to the page, on variant page `page`."""
    if request.headers.get("HX-Request"):
        if message:
            flash(message)
        return render_editor(product, error=error, section=swap or section, active=section, page=page)
    if error is not None:
        return render_editor(product, error=error, active=section, page=page)
    flash(message)
    return redirect(url_for("admin.edit_product", product_id=product.id, page=page if page > 1 else None)
                    + f"#{section}")


@bp.post("/<handle>/products/<id:product_id>/options")
def product_options(product_id: int):
    page = parse.page_number(request.form)
    product = _product(product_id)
    try:
        result = catalog.set_options(product, options_from_form(request.form),
                                     confirm=parse.checkbox(request.form, "confirm"), actor=current_user.email)
    except DomainError as error:
        return _answer(_product(product_id), "variants", page=page, error=error, swap="variant_pages")
    # Variants came and went: the stock rows are answered too, and the page may now be past the end.
    return _answer(_product(product_id), "variants", page=page, swap="variant_pages",
                   message=f"Options saved: {result['added']} variant(s) added, {result['removed']} removed.")


@bp.post("/<handle>/products/<id:product_id>/variants/<id:variant_id>")
def product_variant(product_id: int, variant_id: int):
    product = _product(product_id)
    page = page_of(product, variant_id)  # the row's own page, whatever page the form came from
    try:
        catalog.update_variant(product, variant_id, variant_form(request.form), actor=current_user.email)
    except DomainError as error:
        return _answer(_product(product_id), "variants", page=page, error=error)
    return _answer(_product(product_id), "variants", page=page, message="Variant saved.")


def variant_form(form) -> dict:
    """A variant row as posted: the browser sends "Track" only when it is
    ticked, so its absence means off (not the catalog's default of on)."""
    return {**form.to_dict(), "track_inventory": parse.checkbox(form, "track_inventory")}


@bp.post("/<handle>/products/<id:product_id>/images")
def product_image_upload(product_id: int):
    page = parse.page_number(request.form)
    product = _product(product_id)
    upload = request.files.get("image")
    try:
        if upload is None or not upload.filename:
            raise invalid("Choose an image file to upload.", "image")
        product_images.add_image(product, upload.read(), alt=request.form.get("alt", ""))
    except DomainError as error:
        return _answer(_product(product_id), "images", page=page, error=error)
    return _answer(_product(product_id), "images", page=page, message="Image added.")


@bp.post("/<handle>/products/<id:product_id>/images/<id:image_id>")
def product_image_update(product_id: int, image_id: int):
    page = parse.page_number(request.form)
    product = _product(product_id)
    form = request.form
    try:
        if form.get("delete") == "yes":
            if not confirmed(form):
                return _confirm_image_removal(product, image_id, page)
            product_images.delete_image(product, image_id)
            message = "Image removed."
        else:
            position = parse.whole_number(form.get("position"), field="position", label="The position",
                                          minimum=1, maximum=MAX_IMAGES)
            product_images.update_image(product, image_id, alt=form.get("alt", ""), position=position)
            message = "Image saved."
    except DomainError as error:
        return _answer(_product(product_id), "images", page=page, error=error)
    return _answer(_product(product_id), "images", page=page, message=message)


def _confirm_image_removal(product, image_id: int, page: int):
    image = next((i for i in product.images if i.id == image_id), None)
    editor = url_for("admin.edit_product", product_id=product.id, page=page if page > 1 else None) + "#images"
    if image is None:
        flash("That image is already gone.")
        return redirect(editor)
    action = url_for("admin.product_image_update", product_id=product.id, image_id=image.id)
    return confirmation_page(Confirmation(
        title=f"Remove image {image.position} of “{product.title}”?",
        message="The image leaves the product and its variants; the file is deleted. This cannot be undone.",
        action=action, cancel_url=editor, fields=[("page", str(page))],
        image_url=image_url(image.storage_key, 160), items=[image.alt] if image.alt else [],
        confirm=Choice("Remove image", "delete", "yes", style="danger")))


@bp.post("/<handle>/products/<id:product_id>/pending-images/<id:pending_id>")
def product_pending_image(product_id: int, pending_id: int):
    """An image URL an import could not fetch: try it again now, or give it up."""
    page = parse.page_number(request.form)
    product = _product(product_id)
    action = request.form.get("action")
    try:
        if action == "retry":
            imports.retry_pending_image(product, pending_id)
            message = "Fetching the image again; it appears here once it arrives."
        elif action == "remove":
            pending_images.remove(product, pending_id)
            message = "Image URL removed."
        else:
            raise invalid("Choose Retry or Remove.", "action")
    except DomainError as error:
        return _answer(_product(product_id), "images", page=page, error=error)
    return _answer(_product(product_id), "images", page=page, message=message)


@bp.post("/<handle>/products/<id:product_id>/stock")
def product_stock(product_id: int):
    page = parse.page_number(request.form)
    product = _product(product_id)
    form = request.form
    try:
        variant_id = parse.record_id(form.get("variant_id"), field="variant", label="The variant")
        location_id = parse.record_id(form.get("location_id"), field="location", label="The location")
        if variant_id not in {v.id for v in product.variants}:
            raise invalid("Choose one of this product's variants.", "variant")
        if form.get("mode") == "set":
            inventory.set_on_hand(variant_id, location_id, form.get("quantity"), reason=form.get("reason", ""),
                                  note=form.get("note", ""), actor=current_user.email)
        else:
            inventory.adjust(variant_id, location_id, form.get("delta"), reason=form.get("reason", ""),
                             note=form.get("note", ""), actor=current_user.email)
    except DomainError as error:
        return _answer(_product(product_id), "stock", page=page, error=error)
    return _answer(_product(product_id), "stock", page=page, message="Stock updated.")


@bp.post("/<handle>/products/<id:product_id>/variants/<id:variant_id>/flash-sale")
def variant_flash_sale(product_id: int, variant_id: int):
    """Mark a variant for a flash sale: its add-to-carts pass the Redis gate first (or unmark it)."""
    page = parse.page_number(request.form)
    product = _product(product_id)
    if variant_id not in {v.id for v in product.variants}:
        return _answer(product, "stock", page=page, error=invalid("Choose one of this product's variants.", "variant"))
    on = parse.checkbox(request.form, "flash_sale")
    gate.mark(variant_id, on, actor=current_user.email)
    return _answer(_product(product_id), "stock", page=page,
                   message="Flash sale on: add-to-carts pass the gate." if on else "Flash sale off.")
