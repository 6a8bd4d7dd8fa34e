"""Applying a chunk of a product CSV to the store: each product created or
updated whole or not at all, with its variants, images and stock. Used by
the import job (app.catalog.imports), one transaction per chunk.

Images the product has already (same URL, or our own exported /media/ URL)
are placed at once; every other image URL is recorded as a PendingImage and
fetched after the products have landed (app.catalog.pending_images), so a
slow or dead image host never holds a product back."""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import selectinload

from app.catalog.csv_format import ProductGroup, VariantRow
from app.catalog.errors import CatalogError
from app.catalog.events import product_changed
from app.catalog import pending_images
from app.catalog.image_fetch import FetchProblem, check_url
from app.catalog.models import ImportJob, Product, ProductImage, ProductOption, Variant
from app.catalog.products import (OptionSpec, check_variant_count, clean_options, clean_product, clean_variant,
                                  create_product)
from app.extensions import db
from app.inventory import service as inventory
from app.inventory.models import Location
from app.inventory.service import InventoryError
from app.money import format_amount
from tenants.context import require_store, store_context

PRODUCT_FIELDS = ("title", "handle", "description_html", "vendor", "product_type", "tags", "status", "seo_title",
                  "seo_description", "category")
CLASHED = ("Another change to this store took the same handle while the file was importing; import the "
           "file again.")
TOO_LARGE = "A number in this product is too large to store (a price, weight or quantity)."


class _Refused(Exception):
    """A product is refused; `row` says where."""

    def __init__(self, row: int, message: str):
        super().__init__(message)
        self.row, self.message = row, message


@dataclass(frozen=True)
class ImportSettings:
    job_id: int
    actor: str
    filename: str
    currency: str
    location_id: int | None


def import_chunk(app, store, index: int, chunk: list[ProductGroup], settings: ImportSettings) -> None:
    """In a thread of its own: import chunk number `index` in one transaction,
    which also records it on the job (counters, report, the chunk as done and
    the lease renewed): a chunk is either imported and counted, or neither."""
    with app.app_context(), store_context(store):
        worker = ChunkImport(settings)
        worker.run(chunk)
        db.session.execute(sa.update(ImportJob).where(ImportJob.id == settings.job_id).values(
            processed_rows=ImportJob.processed_rows + sum(len(group.rows) for group in chunk),
            images_total=ImportJob.images_total + worker.counts["images"],
            created_products=ImportJob.created_products + worker.counts["created"],
            updated_products=ImportJob.updated_products + worker.counts["updated"],
            failed_products=ImportJob.failed_products + worker.counts["failed"],
            report=ImportJob.report.op("||")(sa.cast(worker.report, JSONB)),
            done_chunks=sa.func.array_append(ImportJob.done_chunks, index),
            heartbeat_at=sa.func.now()))


class ChunkImport:
    def __init__(self, settings: ImportSettings):
        self.settings, self.actor, self.currency = settings, settings.actor, settings.currency
        self.report: list[dict] = []
        self.counts = {"created": 0, "updated": 0, "failed": 0, "images": 0}

    def run(self, chunk: list[ProductGroup]) -> None:
        """A savepoint costs several round trips (the store's settings are
        set again at each), so a new product, whose checks all run before
        anything is written, goes without one. Should the database refuse
        something anyway, the chunk is rolled back and replayed with a
        savepoint around every product, so only the culprit is refused."""
        try:
            self._products(chunk, careful=False)
        except sa.exc.DBAPIError:
            db.session.rollback()
            self.report, self.counts = [], dict.fromkeys(self.counts, 0)
            self._products(chunk, careful=True)

    def _products(self, chunk: list[ProductGroup], careful: bool) -> None:
        store_id = require_store().id
        # Held here, so the session's identity map keeps it for set_on_hand.
        self.location = db.session.get(Location, (store_id, self.settings.location_id)) \
            if self.settings.location_id else None
        existing = _existing([group.handle for group in chunk])
        stock = _levels([v.id for p in existing.values() for v in p.variants])
        for group in chunk:
            self._product(group, existing.get(group.handle), stock, careful)

    def _note(self, row: int | None, handle: str, message: str, kind: str = "refused") -> None:
        """A report entry: "refused" (the product was not imported) or
        "warning" (it was, and this is worth knowing)."""
        self.report.append({"row": row, "handle": handle, "message": message, "kind": kind})

    def _product(self, group: ProductGroup, product: Product | None, stock: dict, careful: bool) -> None:
        if group.errors:
            self.report.extend(error.as_dict() for error in group.errors)
            self.counts["failed"] += 1
            return
        notes: list[tuple[int, str]] = []
        savepoint = careful or product is not None
        try:
            with db.session.begin_nested() if savepoint else nullcontext():
                if product is None:
                    product, variants = self._create(group)
                    outcome = "created"
                else:
                    variants = self._update(product, group, notes)
                    outcome = "updated"
                queued = _images(product, group, variants, self.settings.job_id, notes, known=outcome == "updated")
                self._stock(group, variants, stock, notes)
                db.session.flush()  # this product's own errors surface here, not in the next one's
                notes.extend(_skus_shared_in_store(product, group, variants))
        except _Refused as refused:
            self._note(refused.row, group.handle, refused.message)
            outcome = "failed"
        except (CatalogError, InventoryError) as error:
            self._note(group.first_row, group.handle, error.message)
            outcome = "failed"
        except (sa.exc.IntegrityError, sa.exc.DataError) as error:
            if not savepoint:
                raise  # the chunk is replayed with savepoints
            self._note(group.first_row, group.handle, TOO_LARGE if isinstance(error, sa.exc.DataError) else CLASHED)
            outcome = "failed"
        else:
            self.report.extend(warning.as_dict() for warning in group.warnings)
            for row, message in notes:
                self._note(row, group.handle, message, "warning")
            self.counts["images"] += queued
        self.counts[outcome] += 1

    def _create(self, group: ProductGroup) -> tuple[Product, list[Variant]]:
        rows = [{**_option_columns(row.values), "price": "0", **row.fields} for row in group.variants]
        options = [OptionSpec(name, [row.values[i] for row in group.variants])
                   for i, name in enumerate(group.option_names)]
        product = create_product({**group.fields, "handle": group.handle}, options=options, variants=rows,
                                 actor=self.actor, commit=False)
        return product, list(product.variants)

    def _update(self, product: Product, group: ProductGroup, notes: list) -> list[Variant]:
        fields = clean_product({**{k: getattr(product, k) for k in PRODUCT_FIELDS}, **group.fields,
                                "handle": product.handle})
        for key, value in fields.items():
            if getattr(product, key) != value:
                setattr(product, key, value)
        if group.options_given:
            variants = self._replace_variants(product, group, notes)
        else:
            variants = self._update_by_sku(product, group)
        product_changed(product.id)
        return variants

    def _replace_variants(self, product: Product, group: ProductGroup, notes: list) -> list[Variant]:
        """The file says what the variants are: match each row to a variant by
        SKU, else by option values; variants the file leaves out are removed."""
        check_variant_count(len(group.variants))
        opts = clean_options([OptionSpec(name, [row.values[i] for row in group.variants])
                              for i, name in enumerate(group.option_names)])
        existing = list(product.variants)
        by_sku: dict[str, list[Variant]] = {}
        for variant in existing:
            if variant.sku:
                by_sku.setdefault(variant.sku, []).append(variant)
        by_values = {v.option_values: v for v in existing}
        claimed = {row.values for row in group.variants}
        plan, used = [], set()
        for row in group.variants:
            match = _sku_match(by_sku.get(row.fields.get("sku") or "", []), row.values, claimed, used)
            if match is None:
                match = by_values.get(row.values)
            if match is not None and match.id in used:
                match = None
            if match is not None:
                used.add(match.id)
            plan.append((row, match))
        doomed = [v for v in existing if v.id not in used]
        for variant in doomed:
            product.variants.remove(variant)
        if doomed:
            titles = ", ".join(v.title for v in doomed[:5]) + ("…" if len(doomed) > 5 else "")
            notes.append((group.first_row, f"Removed {len(doomed)} variant(s) the file does not list: {titles}."))
        _set_options(product, opts)
        moving = [match for row, match in plan if match is not None and match.option_values != row.values]
        for variant in moving:  # out of the way first: the (product, options) index is unique
            variant.option1, variant.option2, variant.option3 = f"~import~{variant.id}", None, None
        if doomed or moving:
            db.session.flush()
        variants = []
        for position, (row, match) in enumerate(plan, 1):
            if match is None:
                match = Variant(position=position, **_clean(row, {"price": "0"}, self.currency),
                                **_option_columns(row.values))
                product.variants.append(match)
            else:
                _apply(match, {**_clean(row, _variant_fields(match, self.currency), self.currency),
                               **_option_columns(row.values), "position": position})
            variants.append(match)
        return variants

    def _update_by_sku(self, product: Product, group: ProductGroup) -> list[Variant]:
        """No option columns: the rows update existing variants, found by SKU
        (or the only variant); the product's options stay as they are."""
        variants = []
        for row in group.variants:
            sku = row.fields.get("sku")
            # A shared SKU: each row takes the next variant with it, in the product's order.
            match = next((v for v in product.variants if sku and v.sku == sku and v not in variants), None)
            if match is None and len(product.variants) == 1 and len(group.variants) == 1:
                match = product.variants[0]
            if match is None:
                raise _Refused(row.row, f"No variant of “{product.title}” has the SKU “{sku or ''}”"
                                        f"{' left' if any(v.sku == sku for v in variants) else ''}; to add "
                                        "variants, include the Option1 Name and Option1 Value columns.")
            variants.append(match)
        for row, variant in zip(group.variants, variants):
            _apply(variant, _clean(row, _variant_fields(variant, self.currency), self.currency))
        return variants

    def _stock(self, group: ProductGroup, variants: list[Variant], stock: dict, notes: list) -> None:
        rows = [(row, variant) for row, variant in zip(group.variants, variants) if row.quantity is not None]
        if not rows or self.location is None:
            return
        db.session.flush()  # new variants get their ids
        # Each variant's level is read and written once, so the writes can
        # wait and go to the database together, in the flush that follows.
        with db.session.no_autoflush:
            for row, variant in rows:
                quantity = row.quantity
                if quantity < 0:
                    message = f"Variant Inventory Qty {quantity} was set to 0: stock cannot be negative."
                    notes.append((row.row, message))
                    quantity = 0
                if quantity == stock.get((variant.id, self.location.id), 0):
                    continue
                try:
                    inventory.set_on_hand(variant.id, self.location.id, quantity, reason="import",
                                          note=f"CSV import {self.settings.filename}", actor=self.actor,
                                          commit=False)
                except InventoryError as error:
                    notes.append((row.row, f"Stock was not changed: {error.message}"))


def _sku_match(candidates: list[Variant], values: tuple[str, ...], claimed: set, used: set) -> Variant | None:
    """The variant a row updates, among those with its SKU (several when the
    SKU is shared): the one with the row's option values, else one whose
    values no row of the file claims (its values were renamed), else the first."""
    free = [v for v in candidates if v.id not in used]
    return (next((v for v in free if v.option_values == values), None)
            or next((v for v in free if v.option_values not in claimed), None)
            or (free[0] if free else None))


def _skus_shared_in_store(product: Product, group: ProductGroup, variants: list[Variant]) -> list[tuple[int, str]]:
    """Warnings for this product's SKUs that products outside the file use
    too (sharing within the file was told when it was read)."""
    rows = {variant.sku: row.row for row, variant in zip(group.variants, variants) if variant.sku}
    if not rows:
        return []
    others = db.session.execute(
        sa.select(Variant.sku, Product.handle, Product.title)
        .join(Product, sa.and_(Product.store_id == Variant.store_id, Product.id == Variant.product_id))
        .where(Variant.sku.in_(list(rows)), Variant.product_id != product.id)
        .order_by(Product.title).distinct()).all()
    notes, told = [], set()
    for sku, handle, title in others:
        if handle not in group.sku_peers.get(sku, ()) and sku not in told:
            told.add(sku)
            notes.append((rows[sku], f"The SKU “{sku}” is also used by “{title}” in the store. The import kept "
                                     "both; SKUs shared by variants can mix up stock counts and orders."))
    return notes


def stock_location() -> Location | None:
    """Where an import counts stock: the store's default location, made (as
    every new store's is) when the store has none at all; None when every
    location is inactive."""
    return inventory.default_location() or inventory.ensure_default_location()


def _existing(handles: list[str]) -> dict[str, Product]:
    products = db.session.scalars(sa.select(Product).where(Product.handle.in_(handles)).options(
        selectinload(Product.options), selectinload(Product.variants), selectinload(Product.images)))
    return {product.handle: product for product in products}


def _levels(variant_ids: list[int]) -> dict[tuple[int, int], int]:
    return {key: level.on_hand for key, level in inventory.levels(variant_ids).items()}


def _option_columns(values: tuple[str, ...]) -> dict:
    padded = list(values) + [None] * (3 - len(values))
    return {"option1": padded[0], "option2": padded[1], "option3": padded[2]}


def _variant_fields(variant: Variant, currency: str) -> dict:
    return {"price": format_amount(variant.price, currency),
            "compare_at_price": format_amount(variant.compare_at_price, currency), "sku": variant.sku,
            "barcode": variant.barcode, "weight_grams": str(variant.weight_grams),
            "weight_unit": variant.weight_unit, "taxable": variant.taxable,
            "cost": format_amount(variant.cost, currency), "track_inventory": variant.track_inventory,
            "low_stock_threshold": "" if variant.low_stock_threshold is None else str(variant.low_stock_threshold)}


def _clean(row: VariantRow, base: dict, currency: str) -> dict:
    try:
        return clean_variant({**base, **row.fields}, currency)
    except CatalogError as error:
        raise _Refused(row.row, error.message) from None


def _apply(obj, values: dict) -> None:
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)


def _set_options(product: Product, opts: list[OptionSpec]) -> None:
    current = list(product.options)
    for i, spec in enumerate(opts):
        if i < len(current):
            _apply(current[i], {"name": spec.name, "values": list(spec.values)})
        else:
            product.options.append(ProductOption(position=i + 1, name=spec.name, values=list(spec.values)))
    for option in current[len(opts):]:
        product.options.remove(option)


def _own_media_key(url: str) -> str | None:
    """The storage key in one of our own /media/ URLs (an exported file being
    imported back), so the image is recognised without fetching it."""
    path = urlsplit(url).path
    return unquote(path[len("/media/"):]) if path.startswith("/media/") else None


def _images(product: Product, group: ProductGroup, variants: list[Variant], job_id: int, notes: list, *,
            known: bool) -> int:
    """Place the file's images in its order (Image Position): those the
    product has already (same URL, or our own exported /media/ URL) at once;
    the others are recorded to fetch after the products land, each with its
    place in that order, its alt text and the variants it is the image of.
    Returns how many were recorded. `known`: the product existed before."""
    links = [(row, variant) for row, variant in zip(group.variants, variants)
             if row.image_src or (row.image_src == "" and variant.image_id is not None)]
    if not group.images and not links:
        return 0
    by_source = {i.source_url: i for i in product.images if i.source_url}
    by_key = {i.storage_key: i for i in product.images}
    ordered: list[ProductImage | str] = []  # a str is a URL still to fetch
    first: dict[str, tuple[int, str]] = {}  # URL -> (row, alt) where the file first names it

    def place(src: str, row: int, alt: str | None) -> ProductImage | str | None:
        found = by_source.get(src) or by_key.get(_own_media_key(src) or "")
        if found is None:
            try:
                check_url(src)
            except FetchProblem as problem:
                notes.append((row, f"Image {src[:300]} was not imported: {problem}"))
                return None
        target = found or src
        if found is not None and alt is not None:
            _apply(found, {"alt": alt[:512]})
        first.setdefault(src, (row, alt or ""))
        if target not in ordered:
            ordered.append(target)
        return target

    for image_row in sorted(group.images, key=lambda r: (r.position is None, r.position or 0, r.row)):
        place(image_row.src, image_row.row, image_row.alt)
    targets = [(row.image_src, variant, place(row.image_src, row.row, None) if row.image_src else None)
               for row, variant in links]
    stored = [t for t in ordered if isinstance(t, ProductImage)]
    for position, image in enumerate(stored + [i for i in product.images if i not in stored], 1):
        _apply(image, {"position": position})
    db.session.flush()  # ids: the images' for the variant links, new variants' for the pending images
    for src, variant, target in targets:
        if not src:  # the file clears the variant's image
            variant.image_id = None
        elif isinstance(target, ProductImage):
            _apply(variant, {"image_id": target.id})
    pending = {p.source_url: p for p in pending_images.of_product(product.id)} if known else {}
    urls = [(position, t) for position, t in enumerate(ordered, 1) if isinstance(t, str)]
    for position, url in urls:
        pending_images.record(product, pending, url, position=position, alt=first[url][1], row=first[url][0],
                              job_id=job_id, variant_ids=[v.id for _, v, t in targets if t == url])
    return len(urls)
