"""Products with up to three options and the variants they span.

Functions take plain values (a form's or a CSV row's), validate them, write
in the current store's transaction and commit; every product change also
emits `product.changed` into the outbox in the same transaction (app.effects).
"""
from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog.errors import CatalogError, CatalogErrorCode as Code, invalid, not_found
from app.catalog.models import MAX_OPTIONS, STATUSES, WEIGHT_UNITS, Product, ProductOption, Variant
from app.catalog.sanitize import clean_html
from app.extensions import db
from app.money import MoneyError, parse_amount
from app.catalog.events import product_changed
from app.parse import BadInput, checkbox, record_id, whole_number
from app.store import service as store_service
from tenants.context import require_store

HANDLE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_TAGS = 250
MAX_DESCRIPTION = 200_000
# Shopify's limit too. One product's variants are one editor, one search
# document and one import transaction, so they are bounded like its images.
MAX_VARIANTS = 2_048
MAX_OPTION_VALUES = MAX_VARIANTS  # one option alone may span every variant
MAX_WEIGHT_GRAMS = 1_000_000_000  # 1,000 tonnes; the column is an INTEGER
MAX_THRESHOLD = 1_000_000_000  # as much stock as a location counts (inventory.MAX_QUANTITY)


@dataclass
class OptionSpec:
    name: str
    values: list[str] = field(default_factory=list)


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:200] or "product"


def _text(data: Mapping, key: str, limit: int, label: str) -> str:
    value = " ".join(str(data.get(key) or "").split())
    if len(value) > limit:
        raise invalid(f"{label} can be at most {limit} characters.", key)
    return value


def parse_tags(raw) -> list[str]:
    items = raw if isinstance(raw, (list, tuple)) else str(raw or "").split(",")
    tags, seen = [], set()
    for item in items:
        tag = " ".join(str(item).split())
        if tag and tag.lower() not in seen:
            if len(tag) > 255:
                raise invalid("A tag can be at most 255 characters.", "tags")
            seen.add(tag.lower())
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise invalid(f"A product can have at most {MAX_TAGS} tags.", "tags")
    return tags


def clean_product(data: Mapping) -> dict:
    """Validated product columns from raw input (handle may come back empty)."""
    title = _text(data, "title", 255, "The title")
    if not title:
        raise invalid("Give the product a title.", "title")
    handle = str(data.get("handle") or "").strip().lower()
    if handle and (len(handle) > 255 or not HANDLE_RE.match(handle)):
        raise invalid("A handle is lowercase letters, digits and single hyphens, like blue-wool-hat.", "handle")
    status = str(data.get("status") or "draft").strip().lower()
    if status not in STATUSES:
        raise invalid("Status must be draft, active or archived.", "status")
    description = str(data.get("description_html") or "")
    if len(description) > MAX_DESCRIPTION:
        raise invalid("The description is too long.", "description_html")
    return {
        "title": title,
        "handle": handle,
        "description_html": clean_html(description),
        "vendor": _text(data, "vendor", 255, "The vendor"),
        "product_type": _text(data, "product_type", 255, "The product type"),
        "tags": parse_tags(data.get("tags")),
        "status": status,
        "seo_title": _text(data, "seo_title", 255, "The SEO title"),
        "seo_description": _text(data, "seo_description", 1000, "The SEO description"),
        "category": _text(data, "category", 1000, "The product category"),
    }


def clean_options(options: Iterable[OptionSpec]) -> list[OptionSpec]:
    cleaned = []
    for option in options:
        name = " ".join((option.name or "").split())
        values = list(dict.fromkeys(v for v in (" ".join(str(x).split()) for x in option.values) if v))
        if not name and not values:
            continue  # a blank row in the form
        if not name:
            raise invalid("Every option needs a name, such as Size or Color.", "options")
        if not values:
            raise invalid(f"Give the option “{name}” at least one value.", "options")
        if len(name) > 255 or any(len(v) > 255 for v in values):
            raise invalid("Option names and values can be at most 255 characters.", "options")
        if len(values) > MAX_OPTION_VALUES:
            raise invalid(f"An option can have at most {MAX_OPTION_VALUES:,} values; “{name}” has "
                          f"{len(values):,}.", "options")
        cleaned.append(OptionSpec(name, values))
    if len(cleaned) > MAX_OPTIONS:
        raise invalid(f"A product can have at most {MAX_OPTIONS} options.", "options")
    names = [o.name.lower() for o in cleaned]
    if len(set(names)) != len(names):
        raise invalid("Two options cannot have the same name.", "options")
    return cleaned


def check_variant_count(count: int) -> None:
    if count > MAX_VARIANTS:
        raise invalid(f"This product would have {count:,} variants; a product can have at most "
                      f"{MAX_VARIANTS:,}.", "variants")


def _check_combinations(options: list[OptionSpec]) -> None:
    """Refuse options that span too many variants before any is made."""
    count = math.prod(len(o.values) for o in options)
    if count > MAX_VARIANTS:
        sizes = " × ".join(f"{len(o.values):,} {o.name}" for o in options)
        raise invalid(f"These options make {count:,} variants ({sizes}); a product can have at most "
                      f"{MAX_VARIANTS:,}.", "options")


def _int(data: Mapping, key: str, label: str, maximum: int, default=None):
    try:
        return whole_number(data.get(key), field=key, label=label, maximum=maximum, default=default)
    except BadInput as error:  # the catalog's callers (editor, import) know CatalogError
        raise invalid(error.message, key) from None


def _money(data: Mapping, key: str, currency: str, required: bool):
    """An amount in the form the data says: dashboard forms post `amount_locale`
    (the locale they were shown in, so a page opened before a locale change
    is still read as shown); CSV rows and seeds carry none: machine form."""
    raw = data.get(key)
    if raw is None or str(raw).strip() == "":
        if required:
            raise invalid("Enter a price.", key)
        return None
    try:
        return parse_amount(raw, currency, data.get("amount_locale") or None)
    except MoneyError as error:
        raise invalid(str(error), key) from None


def clean_variant(data: Mapping, currency: str) -> dict:
    sku = str(data.get("sku") or "").strip() or None
    if sku and len(sku) > 255:
        raise invalid("A SKU can be at most 255 characters.", "sku")
    barcode = str(data.get("barcode") or "").strip()
    if len(barcode) > 255:
        raise invalid("A barcode can be at most 255 characters.", "barcode")
    # A browser form posts a checkbox only when ticked (see parse.checkbox);
    # plain data (CSV rows, seeds) says "true"/"false" and leaves it out for "on".
    track = checkbox(data, "track_inventory") if "track_inventory" in data else True
    return {
        "price": _money(data, "price", currency, required=True),
        "compare_at_price": _money(data, "compare_at_price", currency, required=False),
        "sku": sku,
        "barcode": barcode,
        "weight_grams": _int(data, "weight_grams", "Weight (grams)", MAX_WEIGHT_GRAMS, 0),
        "track_inventory": track,
        "low_stock_threshold": _int(data, "low_stock_threshold", "The low-stock threshold", MAX_THRESHOLD),
        **_kept_only_if_given(data, currency),
    }


def _kept_only_if_given(data: Mapping, currency: str) -> dict:
    """Weight unit, taxable and cost, for the keys `data` has: a form that
    does not show them (the editor's variant row) leaves them as they are."""
    fields = {}
    if "weight_unit" in data:
        unit = str(data.get("weight_unit") or "g").strip().lower()
        if unit not in WEIGHT_UNITS:
            raise invalid(f"The weight unit must be one of {', '.join(WEIGHT_UNITS)}.", "weight_unit")
        fields["weight_unit"] = unit
    if "taxable" in data:
        fields["taxable"] = checkbox(data, "taxable")
    if "cost" in data:
        fields["cost"] = _money(data, "cost", currency, required=False)
    return fields


def _combinations(options: list[OptionSpec]) -> list[tuple[str, ...]]:
    return list(itertools.product(*(o.values for o in options))) if options else [()]


def _option_columns(values: tuple[str, ...]) -> dict:
    padded = list(values) + [None] * (MAX_OPTIONS - len(values))
    return {"option1": padded[0], "option2": padded[1], "option3": padded[2]}


def sku_sharers(variants: Iterable[Variant]) -> dict[int, list[str]]:
    """Variant id -> titles of the other products (or this one) with a variant
    of the same SKU. Shopify lets variants share a SKU, so sharing is allowed:
    the editor and the import report say so, because stock and orders told
    apart by SKU can then be mixed up."""
    variants = [v for v in variants if v.sku]
    if not variants:
        return {}
    others = db.session.execute(
        sa.select(Variant.id, Variant.sku, Product.id.label("product_id"), Product.title)
        .join(Product, sa.and_(Product.store_id == Variant.store_id, Product.id == Variant.product_id))
        .where(Variant.sku.in_({v.sku for v in variants})).order_by(Product.title, Variant.position)).all()
    by_sku = defaultdict(list)
    for row in others:
        by_sku[row.sku].append(row)
    found = {}
    for variant in variants:
        titles = [r.title for r in by_sku[variant.sku] if r.id != variant.id]
        if titles:
            found[variant.id] = list(dict.fromkeys(titles))
    return found


def free_handle(base: str, exclude_id: int | None = None) -> str:
    base = base[:240]
    taken = set(db.session.scalars(sa.select(Product.handle).where(
        sa.or_(Product.handle == base, Product.handle.like(f"{base}-%")),
        Product.id != (exclude_id or 0))))
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in itertools.count(2) if f"{base}-{n}" not in taken)


def _claim_handle(requested: str, title: str, exclude_id: int | None = None) -> str:
    if not requested:
        return free_handle(slugify(title), exclude_id)
    owner = db.session.scalar(sa.select(Product.id).where(Product.handle == requested))
    if owner is not None and owner != exclude_id:
        raise CatalogError(Code.TAKEN, f"Another product already uses the handle “{requested}”.", "handle")
    return requested


def get_product(product_id: int) -> Product:
    product = db.session.scalar(sa.select(Product).where(Product.id == product_id).options(
        selectinload(Product.options), selectinload(Product.variants), selectinload(Product.images)))
    if product is None:
        raise not_found()
    return product


def create_product(data: Mapping, *, options: Iterable[OptionSpec] = (), variants: list[Mapping] | None = None,
                   actor: str, commit: bool = True) -> Product:
    """A product, its options and variants. `variants` (each with option1..3
    and variant fields) defaults to every combination of the options, priced
    from data["price"]."""
    currency = require_store().currency
    fields = clean_product(data)
    if variants is not None:
        check_variant_count(len(variants))
    opts = clean_options(options)
    if variants is None:
        defaults = {k: data.get(k) for k in ("price", "compare_at_price", "amount_locale", "sku", "barcode",
                                              "weight_grams", "weight_unit", "track_inventory", "taxable", "cost",
                                              "low_stock_threshold") if k in data}
        defaults.setdefault("price", "0")
        _check_combinations(opts)
        combos = _combinations(opts)
        skus = variant_skus(str(defaults.get("sku") or "").strip(), combos)
        variants = [{**defaults, "sku": sku, **_option_columns(c)} for sku, c in zip(skus, combos)]
    rows = _variant_rows(variants, opts, currency)
    fields["handle"] = _claim_handle(fields["handle"], fields["title"])
    product = Product(**fields)
    product.options = [ProductOption(position=i, name=o.name, values=o.values) for i, o in enumerate(opts, 1)]
    product.variants = [Variant(position=i, **row) for i, row in enumerate(rows, 1)]
    db.session.add(product)
    db.session.flush()
    product_changed(product.id)
    store_service.record(actor, "product.created", f"Created product “{product.title}”")
    if commit:
        _commit()
    return product


def variant_skus(prefix: str, combos: list[tuple[str, ...]]) -> list[str | None]:
    """One SKU per generated variant from the form's one SKU field: a single
    variant keeps it as typed; several get the prefix plus their option
    values (TEE + Red / S -> TEE-RED-S), a number added where two would
    read the same (Red! and Red? both -> RED)."""
    if not prefix or len(combos) == 1:
        return [prefix or None] * len(combos)
    skus, taken = [], set()
    for values in combos:
        base = _sku_part("-".join((prefix, *values)))[:240]
        sku = next(candidate for candidate in itertools.chain([base], (f"{base}-{n}" for n in itertools.count(2)))
                   if candidate not in taken)
        taken.add(sku)
        skus.append(sku)
    return skus


def _sku_part(text: str) -> str:
    """Uppercase ASCII letters and digits, any other run of characters one hyphen."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Z0-9]+", "-", ascii_text.upper()).strip("-") or "SKU"


def _variant_rows(variants: list[Mapping], options: list[OptionSpec], currency: str) -> list[dict]:
    if not variants:
        raise invalid("A product needs at least one variant.", "variants")
    allowed = [set(o.values) for o in options]
    rows, seen = [], set()
    for variant in variants:
        values = tuple(v for v in (variant.get("option1"), variant.get("option2"), variant.get("option3"))
                       if v not in (None, ""))
        if len(values) != len(options) or any(v not in allowed[i] for i, v in enumerate(values)):
            raise invalid("Each variant needs one value of every option.", "variants")
        if values in seen:
            raise invalid(f"Two variants are both “{' / '.join(values) or 'Default'}”.", "variants")
        seen.add(values)
        rows.append({**clean_variant(variant, currency), **_option_columns(values)})
    return rows


def update_product(product: Product, data: Mapping, *, actor: str) -> Product:
    fields = clean_product({**_current(product), **data})
    fields["handle"] = _claim_handle(fields["handle"] or product.handle, fields["title"], product.id)
    for key, value in fields.items():
        setattr(product, key, value)
    product_changed(product.id)
    _commit()
    return product


def _current(product: Product) -> dict:
    return {k: getattr(product, k) for k in ("title", "handle", "description_html", "vendor", "product_type",
                                             "tags", "status", "seo_title", "seo_description", "category")}


def set_options(product: Product, options: Iterable[OptionSpec], *, confirm: bool, actor: str) -> dict:
    """Change a product's options; variants follow. Adding a value adds the
    variants it implies; removing one deletes variants only with `confirm`."""
    opts = clean_options(options)
    _check_combinations(opts)
    combos = _combinations(opts)
    wanted = set(combos)  # sets, not lists: up to 2,048 variants meet up to 2,048 combinations
    by_values: dict[tuple, Variant] = {}
    for variant in product.variants:
        values = _carry_over(variant.option_values, product.options, opts)
        if values in wanted and values not in by_values:
            by_values[values] = variant
    keeping = {id(v) for v in by_values.values()}
    doomed = [v for v in product.variants if id(v) not in keeping]
    if doomed and not confirm:
        names = ", ".join(v.title for v in doomed[:5]) + ("…" if len(doomed) > 5 else "")
        raise CatalogError(Code.NEEDS_CONFIRMATION,
                           f"This deletes {len(doomed)} variant{'s' * (len(doomed) != 1)} ({names}) and their stock "
                           "history. Confirm to go ahead.", "options", status=409)
    template = product.variants[0] if product.variants else None
    kept = []
    for position, values in enumerate(combos, 1):
        variant = by_values.get(values)
        if variant is None:
            variant = Variant(price=template.price if template else 0, weight_grams=template.weight_grams if template
                              else 0, track_inventory=template.track_inventory if template else True)
        variant.position = position
        kept.append((variant, values))
    for variant in doomed:
        product.variants.remove(variant)
    product.options.clear()
    db.session.flush()  # deletions first, so new rows never clash with the old ones
    for variant, values in kept:
        for key, value in _option_columns(values).items():
            setattr(variant, key, value)
        if id(variant) not in keeping:
            product.variants.append(variant)
    product.options = [ProductOption(position=i, name=o.name, values=o.values) for i, o in enumerate(opts, 1)]
    product_changed(product.id)
    added = len(combos) - len(by_values)
    store_service.record(actor, "product.options", f"Changed options of “{product.title}”: "
                                                   f"{added} variant(s) added, {len(doomed)} removed")
    _commit()
    return {"added": added, "removed": len(doomed)}


def _carry_over(values: tuple[str, ...], old: list[ProductOption], new: list[OptionSpec]) -> tuple[str, ...]:
    """A variant's values under the new options, matched by option name; an
    option it did not have takes that option's first value."""
    by_name = {o.name.lower(): values[i] for i, o in enumerate(old) if i < len(values)}
    return tuple(by_name.get(o.name.lower(), o.values[0]) for o in new)


def update_variant(product: Product, variant_id: int, data: Mapping, *, actor: str) -> Variant:
    variant = next((v for v in product.variants if v.id == variant_id), None)
    if variant is None:
        raise not_found("variant")
    row = clean_variant(data, require_store().currency)
    if str(data.get("image_id") or "").strip():
        row["image_id"] = _image_id(product, data["image_id"])
    elif "image_id" in data:
        row["image_id"] = None
    for key, value in row.items():
        setattr(variant, key, value)
    product_changed(product.id)
    _commit()
    return variant


def _image_id(product: Product, raw) -> int:
    try:
        image_id = record_id(raw, field="image_id")
    except BadInput:
        image_id = None
    if image_id not in {i.id for i in product.images}:
        raise invalid("Pick one of this product's images.", "image_id")
    return image_id


def product_titles(product_ids: list[int], *, limit: int) -> tuple[list[str], int]:
    """The titles of the first `limit` of these products (by title) and how many exist."""
    found = sa.select(Product.title).where(Product.id.in_(product_ids))
    titles = list(db.session.scalars(found.order_by(Product.title, Product.id).limit(limit)))
    total = len(titles) if len(titles) < limit else db.session.scalar(
        sa.select(sa.func.count()).select_from(found.subquery()))
    return titles, total


def bulk_update(product_ids: list[int], action: str, *, tag: str = "", actor: str) -> int:
    """Publish, archive, delete or tag many products at once; returns how many."""
    ids = list(db.session.scalars(sa.select(Product.id).where(Product.id.in_(product_ids))))
    if not ids:
        return 0
    if action in ("publish", "archive", "draft"):
        status = {"publish": "active", "archive": "archived", "draft": "draft"}[action]
        db.session.execute(sa.update(Product).where(Product.id.in_(ids)).values(status=status,
                                                                                updated_at=sa.func.now()))
    elif action == "tag":
        new = parse_tags([tag])
        if not new:
            raise invalid("Enter the tag to add.", "tag")
        already = sa.select(sa.literal(1)).select_from(sa.func.unnest(Product.tags).alias("tag")).where(
            sa.func.lower(sa.column("tag")) == new[0].lower()).exists()
        db.session.execute(sa.update(Product).where(Product.id.in_(ids), sa.not_(already))
                           .values(tags=Product.tags + new, updated_at=sa.func.now()))
    elif action == "delete":
        db.session.execute(sa.delete(Product).where(Product.id.in_(ids)))
    else:
        raise invalid("Choose what to do with the selected products.", "action")
    product_changed(*ids)
    store_service.record(actor, f"products.{action}", f"{action.capitalize()}: {len(ids)} product(s)")
    _commit()
    return len(ids)


def _commit() -> None:
    try:
        db.session.commit()
    except sa.exc.IntegrityError as error:
        db.session.rollback()
        constraint = getattr(error.orig.diag, "constraint_name", "") or ""
        if "handle" in constraint:
            raise CatalogError(Code.TAKEN, "Another product already uses that handle.", "handle") from None
        raise
