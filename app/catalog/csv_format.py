"""Shopify's product CSV: reading a file into products, writing the catalog out.

Both of Shopify's layouts are read (app.catalog.csv_columns maps the current
one's column names onto the classic ones used here) and either is written.

The layout is Shopify's: one row per variant; rows that share a Handle are one
product; the product's own fields (Title, Body (HTML), Vendor, Tags, Status,
option names…) come from its first row; later rows add variants and/or images,
and a row with only image columns adds an image. A product without options is
written as Option1 Name "Title", Option1 Value "Default Title".

Formula cells (OWASP CSV injection): a text cell that a spreadsheet would
run as a formula (starting with =, +, -, @, tab or carriage return) is
written with a leading apostrophe, which spreadsheets show as text. To keep
this reversible, a cell that is already apostrophes followed by one of
those characters gets one more. Reading takes one apostrophe off any cell
that is apostrophes followed by one of those characters, so importing our
own export gives back the original text.

Reading keeps Shopify's overwrite rule: a column the file does not have leaves
that field alone on an existing product; a column that is there but blank
clears it. Problems with a row are collected on its product (which is then
refused as a whole); only problems with the file itself (encoding, header)
raise.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.catalog import csv_columns, pending_images
from app.catalog.csv_columns import (CLASSIC, COLUMNS, CURRENT, CURRENT_NAMES, EXTRA_OPTION_RE, FORMATS, Header,
                                     file_error)
from app.catalog.images import url as image_path
from app.catalog.models import MAX_OPTIONS, STATUSES, WEIGHT_UNITS, Product
from app.catalog.products import HANDLE_RE, MAX_VARIANTS, slugify
from app.extensions import db
from app.inventory.service import levels
from app.money import MoneyError, format_amount, parse_amount
from tenants.context import require_store

__all__ = ["COLUMNS", "CURRENT_COLUMNS", "FORMATS", "ParsedFile", "decode", "export_products", "ignored_columns",
           "parse_csv", "parse_text", "read_header"]
CURRENT_COLUMNS = csv_columns.CURRENT_COLUMNS
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_FIELD_CHARS = 1_000_000  # a Body (HTML) may be 200,000 characters; csv's default stops at 131,072
# Columns whose value on a later row makes it a variant row (else it only adds an image).
VARIANT_MARKERS = ("Variant SKU", "Variant Grams", "Variant Inventory Qty", "Variant Price",
                   "Variant Compare At Price", "Variant Barcode", "Variant Image", "Cost per item")
PRODUCT_TEXT = {"Body (HTML)": "description_html", "Vendor": "vendor", "Type": "product_type", "Tags": "tags",
                "SEO Title": "seo_title", "SEO Description": "seo_description", "Product Category": "category"}
# Shopify writes g, kg, lb, oz; its API spells them out.
UNIT_WORDS = {**{unit: unit for unit in WEIGHT_UNITS}, "grams": "g", "kilograms": "kg", "pounds": "lb", "ounces": "oz"}
GRAMS_RE = re.compile(r"\d+(\.\d*)?|\.\d+")
TRUE_WORDS, FALSE_WORDS = {"true", "yes", "y", "1", "t"}, {"false", "no", "n", "0", "f"}
DEFAULT_OPTION, DEFAULT_VALUE = "Title", "Default Title"
MAX_WHOLE = 1_000_000_000  # grams, stock and image positions
FORMULA_RE = re.compile(r"'*[=+\-@\t\r]")  # a cell a spreadsheet could run, behind any apostrophes we added


@dataclass
class RowError:
    row: int
    handle: str
    message: str
    kind: str = "refused"  # or "warning": the product is imported, and the report says this about it

    def as_dict(self) -> dict:
        return {"row": self.row, "handle": self.handle, "message": self.message, "kind": self.kind}


@dataclass
class VariantRow:
    row: int
    values: tuple[str, ...]
    fields: dict  # clean_variant inputs, only for the columns the file has
    quantity: int | None = None
    image_src: str | None = None  # None: no Variant Image column; "": unlink


@dataclass
class ImageRow:
    row: int
    src: str
    position: int | None
    alt: str | None  # None: no Image Alt Text column


@dataclass
class ProductGroup:
    handle: str
    first_row: int
    rows: list[int] = field(default_factory=list)
    fields: dict = field(default_factory=dict)  # clean_product inputs, only for the columns the file has
    option_names: list[str] = field(default_factory=list)
    options_given: bool = False  # the file has option columns, so it says what the variants are
    variants: list[VariantRow] = field(default_factory=list)
    images: list[ImageRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    # SKU -> handles of the file's other products with that SKU (told once, by the file's check)
    sku_peers: dict[str, set[str]] = field(default_factory=dict)
    seen_values: set[tuple[str, ...]] = field(default_factory=set, repr=False)
    surplus: list[int] = field(default_factory=list)  # rows of variants past MAX_VARIANTS, not read

    def image_urls(self) -> set[str]:
        return {i.src for i in self.images} | {v.image_src for v in self.variants if v.image_src}


@dataclass
class ParsedFile:
    columns: set[str]
    products: list[ProductGroup]
    errors: list[RowError]  # rows that belong to no product
    total_rows: int
    format: str = CLASSIC

    @property
    def has_quantities(self) -> bool:
        return any(v.quantity is not None for p in self.products for v in p.variants)


class RowProblem(ValueError):
    pass


# -- reading ----------------------------------------------------------------

def decode(data: bytes) -> str:
    """The file's text, or a file-level CatalogError saying why it is not UTF-8 CSV text."""
    if len(data) > MAX_FILE_BYTES:
        raise file_error(f"The file is {len(data) / 1_048_576:.0f} MB; the limit is "
                         f"{MAX_FILE_BYTES // 1_048_576} MB. Split it into smaller files.")
    if not data.strip():
        raise file_error("The file is empty.")
    if data.startswith(b"PK\x03\x04"):
        raise file_error("This is a spreadsheet workbook (such as .xlsx), not a CSV file. "
                         "Save it as “CSV UTF-8” and upload that.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise file_error("The file is encoded as UTF-16; product CSV files must be UTF-8. "
                         "Save it as “CSV UTF-8” and upload it again.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise file_error(f"The file is not UTF-8 text (byte 0x{data[error.start]:02X} on line {line} is not valid "
                         "UTF-8; the file is probably Latin-1 or Windows-1252). Save it as “CSV UTF-8” and upload "
                         "it again.") from None
    if "\x00" in text:
        raise file_error("The file contains NUL bytes, so it is not UTF-8 CSV text (it may be UTF-16 without a "
                         "byte order mark, or not a CSV file at all). Save it as “CSV UTF-8”.")
    return text


def _reader(text: str):
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS))
    return csv.reader(io.StringIO(text, newline=""))


def read_header(text: str) -> Header:
    """The header's columns (under their classic names) and format. Raises a
    file-level CatalogError for a bad header."""
    try:
        header = next(_reader(text), [])
    except csv.Error as error:
        raise file_error(f"The header row cannot be read as CSV: {error}.") from None
    return csv_columns.read(header)


def ignored_columns(text: str) -> dict[str, int]:
    """The file's columns Vitrine does not keep -> how many non-blank cells
    each has (only columns with some). A row that cannot be read as CSV ends
    the count: the import reports that row itself."""
    header = read_header(text)
    if not header.ignored and not header.assumed:
        return {}

    def records():
        reader = _reader(text)
        try:
            next(reader)
            yield from reader
        except csv.Error:
            return

    return header.ignored_counts(records())


def parse_csv(data: bytes, currency: str | None = None) -> ParsedFile:
    """Rows grouped into products by Handle; prices are checked in `currency` (default: the store's)."""
    return parse_text(decode(data), currency)


def parse_text(text: str, currency: str | None = None) -> ParsedFile:
    header = read_header(text)
    columns = header.columns
    currency = currency or require_store().currency
    groups: dict[str, ProductGroup] = {}
    orphans: list[RowError] = []
    previous, total = None, 0
    records = _reader(text)
    next(records)
    number = 1
    while True:
        number += 1  # spreadsheet numbering: the header is row 1
        try:
            record = next(records)
        except StopIteration:
            break
        except csv.Error as error:
            raise file_error(f"Row {number} cannot be read as CSV: {error}.") from None
        if not any(cell.strip() for cell in record):
            continue
        total += 1
        row = _Row(record, header, number)
        handle = row.text("Handle").lower()
        if not handle and row.text("Title"):
            handle = slugify(row.text("Title"))  # Shopify: a new product may come with only a Title
        elif not handle:
            if previous is None:
                orphans.append(RowError(number, "", "This row has no Handle and follows no product."))
                continue
            handle = previous.handle  # a continuation row
        group = groups.get(handle)
        if group is None:
            group = groups[handle] = ProductGroup(handle=handle, first_row=number)
        previous = group
        group.rows.append(number)
        try:
            _read_row(group, row, currency)
        except RowProblem as problem:
            group.errors.append(RowError(number, handle, str(problem)))
    _warn_shared_skus(groups.values())
    _refuse_too_many_variants(groups.values())
    return ParsedFile(columns=set(columns), products=list(groups.values()), errors=orphans, total_rows=total,
                      format=header.format)


def _warn_shared_skus(groups) -> None:
    """Shopify lets variants share a SKU, so a shared one is imported; each
    variant after the first with that SKU gets a warning saying where the
    SKU was first, and the products sharing it know each other (sku_peers),
    so the import does not warn about them again."""
    first: dict[str, tuple[ProductGroup, int]] = {}
    sharers: dict[str, set[str]] = {}
    for group in groups:
        for variant in group.variants:
            sku = variant.fields.get("sku")
            if not sku:
                continue
            owner, row = first.setdefault(sku, (group, variant.row))
            sharers.setdefault(sku, set()).add(group.handle)
            if row != variant.row:
                where = "this product" if owner is group else f"“{owner.handle}”"
                group.warnings.append(RowError(variant.row, group.handle, f"The SKU “{sku}” is also used by {where} "
                                               f"(row {row}). The import kept both; SKUs shared by variants can "
                                               "mix up stock counts and orders.", "warning"))
    for group in groups:
        group.sku_peers = {v.fields["sku"]: sharers[v.fields["sku"]] - {group.handle}
                           for v in group.variants if v.fields.get("sku")}


def _refuse_too_many_variants(groups) -> None:
    """One report line for a product past the cap (its surplus rows were not read)."""
    for group in groups:
        if group.surplus:
            count = len(group.variants) + len(group.surplus)
            group.errors.append(RowError(group.surplus[0], group.handle, (
                f"“{group.handle}” has {count:,} variants, more than the {MAX_VARIANTS:,} a product can have "
                f"(this row is variant {MAX_VARIANTS + 1:,}); none of it was imported.")))


class _Row:
    def __init__(self, record: list[str], header: Header, number: int):
        self.record, self.columns, self.width, self.number = record, header.columns, header.width, number
        self.format = header.format

    def label(self, name: str) -> str:
        """The column's name in the file's own format, for messages."""
        return CURRENT_NAMES.get(name, name) if self.format == CURRENT else name

    def has(self, name: str) -> bool:
        return name in self.columns

    def raw(self, name: str) -> str | None:
        """The cell as written, or None when the file has no such column."""
        index = self.columns.get(name)
        if index is None:
            return None
        return unneutralise(self.record[index]) if index < len(self.record) else ""

    def text(self, name: str) -> str:
        return " ".join((self.raw(name) or "").split())


def _read_row(group: ProductGroup, row: _Row, currency: str) -> None:
    if len(row.record) > row.width and any(cell.strip() for cell in row.record[row.width:]):
        raise RowProblem(f"This row has {len(row.record)} fields but the header has {row.width}; "
                         "a value with a comma probably lacks its quotes.")
    for name in row.columns:
        if EXTRA_OPTION_RE.match(name.casefold()) and row.text(name):
            raise RowProblem(f"A product can have at most {MAX_OPTIONS} options; this row sets {name}.")
    first = len(group.rows) == 1
    if first and (handle_error := _handle_problem(group.handle)):
        raise RowProblem(handle_error)
    if first:
        _read_product(group, row)
    if first or any(row.text(f"Option{i} Value") for i in range(1, MAX_OPTIONS + 1)) or \
            any(row.text(name) for name in VARIANT_MARKERS):
        _read_variant(group, row, currency)
    if src := row.text("Image Src"):
        position = _whole(row, "Image Position", signed=False)
        alt = row.raw("Image Alt Text")
        group.images.append(ImageRow(row.number, src, position, None if alt is None else " ".join(alt.split())))


def _handle_problem(handle: str) -> str | None:
    if len(handle) > 255 or not HANDLE_RE.match(handle):
        return (f"The Handle “{handle[:80]}” is not valid: use lowercase letters, digits and single hyphens, "
                "like blue-wool-hat.")
    return None


def _read_product(group: ProductGroup, row: _Row) -> None:
    title = row.text("Title")
    if not title:
        raise RowProblem("The first row of a product needs its Title.")
    fields = {"title": title}
    for column, key in PRODUCT_TEXT.items():
        if row.has(column):
            fields[key] = row.raw(column) if key == "description_html" else row.text(column)
    status = row.text("Status").lower()
    if status:
        if status not in STATUSES:
            raise RowProblem(f"Status must be {', '.join(STATUSES)}, not “{row.text('Status')}”.")
        fields["status"] = status
    elif row.has("Published"):
        # Shopify publishes a product whose Published cell is blank.
        fields["status"] = "active" if _boolean(row, "Published", default=True) else "draft"
    group.fields = fields
    group.options_given = row.has("Option1 Name")
    names = [row.text(f"Option{i} Name") for i in range(1, MAX_OPTIONS + 1)]
    while names and not names[-1]:
        names.pop()
    if "" in names:
        raise RowProblem(f"Option{names.index('') + 1} Name is blank but a later option is named.")
    if names == [DEFAULT_OPTION] and row.text("Option1 Value") in ("", DEFAULT_VALUE):
        names = []
    group.option_names = names


def _read_variant(group: ProductGroup, row: _Row, currency: str) -> None:
    if len(group.variants) >= MAX_VARIANTS:
        group.surplus.append(row.number)  # counted, not read: the product is refused anyway
        return
    names = group.option_names
    values = tuple(row.text(f"Option{i} Value") for i in range(1, MAX_OPTIONS + 1))
    if not names and values[0] == DEFAULT_VALUE and not any(values[1:]):
        values = ("", "", "")
    for i, value in enumerate(values):
        if i >= len(names) and value:
            raise RowProblem(f"Option{i + 1} Value is “{value}” but the product's first row names no "
                             f"Option{i + 1}.")
        if i < len(names) and not value:
            raise RowProblem(f"Give this variant a value for the option “{names[i]}” (Option{i + 1} Value).")
    values = values[:len(names)]
    if group.options_given and values in group.seen_values:
        raise RowProblem(f"Two rows are both the variant “{' / '.join(values) or DEFAULT_VALUE}”.")
    fields = {}
    if row.has("Variant SKU"):
        fields["sku"] = row.text("Variant SKU") or None
    if row.has("Variant Barcode"):
        fields["barcode"] = row.text("Variant Barcode")
    if price := row.text("Variant Price"):
        fields["price"] = _amount(price, currency, row.label("Variant Price"))
    if row.has("Variant Compare At Price"):
        compare = row.text("Variant Compare At Price")
        fields["compare_at_price"] = _amount(compare, currency, row.label("Variant Compare At Price")) \
            if compare else None
    grams = _grams(row)
    if grams is not None:
        fields["weight_grams"] = str(grams)
    if row.has("Variant Weight Unit"):
        fields["weight_unit"] = _weight_unit(row)
    if row.has("Variant Taxable"):
        fields["taxable"] = _boolean(row, "Variant Taxable", default=True)  # Shopify taxes a blank
    if row.has("Cost per item"):
        cost = row.text("Cost per item")
        fields["cost"] = _amount(cost, currency, row.label("Cost per item")) if cost else None
    if row.has("Variant Inventory Tracker"):
        fields["track_inventory"] = bool(row.text("Variant Inventory Tracker"))  # "shopify" (or a service): tracked
    image = row.raw("Variant Image")
    group.seen_values.add(values)
    group.variants.append(VariantRow(row.number, values, fields, _whole(row, "Variant Inventory Qty", signed=True),
                                     None if image is None else image.strip()))


def _amount(text: str, currency: str, column: str) -> str:
    try:
        parse_amount(text, currency)
    except MoneyError as error:
        raise RowProblem(f"{column}: {error}") from None
    return text


def _grams(row: _Row) -> int | None:
    """Shopify writes grams with decimals (250.0, or 226.796185 for half a
    pound): rounded half up to the gram, exactly (Decimal, never a float)."""
    column = "Variant Grams"
    text = row.text(column)
    if not text:
        return None
    if not GRAMS_RE.fullmatch(text):
        raise RowProblem(f"{row.label(column)} must be a weight in grams, 0 or more (like 250 or 226.8), "
                         f"not “{text[:40]}”.")
    grams = int(Decimal(text).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if grams > MAX_WHOLE:
        raise RowProblem(f"{row.label(column)} is too large: at most {MAX_WHOLE:,}.")
    return grams


def _weight_unit(row: _Row) -> str:
    text = row.text("Variant Weight Unit")
    unit = UNIT_WORDS.get(text.lower() or "g")
    if unit is None:
        raise RowProblem(f"{row.label('Variant Weight Unit')} must be one of {', '.join(WEIGHT_UNITS)}, "
                         f"not “{text[:40]}”.")
    return unit


def _whole(row: _Row, column: str, *, signed: bool) -> int | None:
    text = row.text(column)
    if not text:
        return None
    number = text
    digits = number[1:] if signed and number[:1] in "+-" else number
    if not digits.isdigit():
        kind = "a whole number" if signed else "a whole number, 0 or more"
        raise RowProblem(f"{row.label(column)} must be {kind}, not “{text[:40]}”.")
    if int(digits) > MAX_WHOLE:
        raise RowProblem(f"{row.label(column)} is too large: at most {MAX_WHOLE:,}.")
    return int(number)


def _boolean(row: _Row, column: str, default: bool) -> bool:
    text = row.text(column).lower()
    if not text:
        return default
    if text in TRUE_WORDS or text in FALSE_WORDS:
        return text in TRUE_WORDS
    raise RowProblem(f"{row.label(column)} must be TRUE or FALSE, not “{row.text(column)[:40]}”.")


# -- writing ----------------------------------------------------------------

def export_products(base_url: str = "", *, format: str = CLASSIC, batch: int = 200) -> Iterator[str]:
    """The current store's catalog as Shopify CSV text, in chunks (the header
    first), in the `format` asked for (classic or current).

    `base_url` (like https://shop.example.com) makes image URLs absolute. The
    generator reads the database as it goes: a streaming view keeps the store
    context and app context open around it (stream_with_context).
    """
    if format not in FORMATS:
        raise ValueError(f"unknown CSV format {format!r}")
    currency = require_store().currency
    order = COLUMNS if format == CLASSIC else tuple(CURRENT_NAMES)  # classic names, in the format's order
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS if format == CLASSIC else csv_columns.CURRENT_COLUMNS)
    after = 0
    while True:
        products = list(db.session.scalars(
            sa.select(Product).where(Product.id > after).order_by(Product.id).limit(batch)
            .options(selectinload(Product.options), selectinload(Product.variants), selectinload(Product.images))))
        if not products:
            break
        on_hand: dict[int, int] = {}
        for (variant_id, _), level in levels([v.id for p in products for v in p.variants]).items():
            on_hand[variant_id] = on_hand.get(variant_id, 0) + level.on_hand
        pending = pending_images.by_product([p.id for p in products])  # failed image URLs are exported back
        for product in products:
            writer.writerows([row[name] for name in order]
                             for row in _product_rows(product, on_hand, currency, base_url.rstrip("/"), format,
                                                      pending.get(product.id, [])))
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        after = products[-1].id
    if out.tell():
        yield out.getvalue()


def _product_rows(product: Product, on_hand: dict[int, int], currency: str, base: str, fmt: str,
                  pending: list = ()) -> list[dict]:
    """The product's rows, each a dict of classic column name -> cell; image
    URLs an import could not fetch yet are written back after its images."""
    names = [o.name for o in product.options]
    images = {image.id: image for image in product.images}
    sources = [(base + image_path(i.storage_key), i.alt) for i in product.images] + \
        [(p.source_url, p.alt) for p in pending]
    waiting = pending_images.variant_links(pending)
    rows = []
    for k in range(max(len(product.variants), len(sources), 1)):
        row = dict.fromkeys(COLUMNS, "")
        row["Handle"] = product.handle
        if k == 0:
            row.update({
                "Title": product.title, "Body (HTML)": product.description_html, "Vendor": product.vendor,
                "Type": product.product_type, "Tags": ", ".join(product.tags or []), "Product Category": product.category,
                "Published": "TRUE" if product.status == "active" else "FALSE", "Gift Card": "FALSE",
                "SEO Title": product.seo_title, "SEO Description": product.seo_description, "Status": product.status,
            })
            for i, name in enumerate(names or [DEFAULT_OPTION], 1):
                row[f"Option{i} Name"] = name
        if k < len(product.variants):
            variant = product.variants[k]
            for i, value in enumerate(variant.option_values or (DEFAULT_VALUE,), 1):
                row[f"Option{i} Value"] = value
            image = images.get(variant.image_id)
            row.update({
                "Variant SKU": variant.sku or "", "Variant Grams": str(variant.weight_grams),
                "Variant Inventory Tracker": "shopify" if variant.track_inventory else "",
                "Variant Inventory Qty": str(on_hand.get(variant.id, 0)),
                "Variant Inventory Policy": "deny" if fmt == CLASSIC else "DENY",
                "Variant Fulfillment Service": "manual", "Variant Price": format_amount(variant.price, currency),
                "Variant Compare At Price": format_amount(variant.compare_at_price, currency),
                "Variant Requires Shipping": "TRUE", "Variant Taxable": "TRUE" if variant.taxable else "FALSE",
                "Variant Barcode": variant.barcode, "Variant Weight Unit": variant.weight_unit,
                "Variant Image": base + image_path(image.storage_key) if image else waiting.get(variant.id, ""),
                "Cost per item": format_amount(variant.cost, currency),
            })
        if k < len(sources):
            row.update({"Image Src": sources[k][0], "Image Position": str(k + 1), "Image Alt Text": sources[k][1]})
        rows.append({name: neutralise(cell) for name, cell in row.items()})
    return rows


def neutralise(cell: str) -> str:
    """'=HYPERLINK(…)' -> "'=HYPERLINK(…)": shown as text, never run."""
    return "'" + cell if FORMULA_RE.match(cell) else cell


def unneutralise(cell: str) -> str:
    """The reverse of `neutralise`: one leading apostrophe off a formula-looking cell."""
    return cell[1:] if cell.startswith("'") and FORMULA_RE.match(cell) else cell
