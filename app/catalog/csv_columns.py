"""The columns of Shopify's two product CSV formats, and reading a file's header.

Shopify has written two layouts over the years: the classic one (Handle,
Title, Body (HTML), …, Variant SKU, Variant Grams, …) and the current one
(Title, URL handle, Description, …, SKU, Weight value (grams), …). They
carry the same fields under other names, so a header is read into the
classic names, which the rest of the import uses; a file may even mix them.
The format is told from the header (a URL handle column, or a Title without
a Handle, is the current one) and only decides which columns are required
and how a missing one is named.

Columns Vitrine does not keep (metafields, market prices, Google Shopping,
unit prices, anything unknown) are read past and counted, so the import can
say what it left out.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from app.catalog.errors import CatalogError, CatalogErrorCode as Code

CLASSIC, CURRENT = "classic", "current"
FORMATS = (CLASSIC, CURRENT)

COLUMNS = (
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Option3 Name", "Option3 Value",
    "Variant SKU", "Variant Grams", "Variant Inventory Tracker", "Variant Inventory Qty",
    "Variant Inventory Policy", "Variant Fulfillment Service", "Variant Price", "Variant Compare At Price",
    "Variant Requires Shipping", "Variant Taxable", "Variant Barcode", "Image Src", "Image Position",
    "Image Alt Text", "Gift Card", "SEO Title", "SEO Description", "Variant Image", "Variant Weight Unit",
    "Cost per item", "Status",
)
# The current format's name for each classic column, in the order Shopify writes them.
CURRENT_NAMES = {
    "Title": "Title", "Handle": "URL handle", "Body (HTML)": "Description", "Vendor": "Vendor",
    "Product Category": "Product category", "Type": "Type", "Tags": "Tags", "Published": "Published on online store",
    "Status": "Status", "Variant SKU": "SKU", "Variant Barcode": "Barcode",
    "Option1 Name": "Option1 name", "Option1 Value": "Option1 value", "Option2 Name": "Option2 name",
    "Option2 Value": "Option2 value", "Option3 Name": "Option3 name", "Option3 Value": "Option3 value",
    "Variant Price": "Price", "Variant Compare At Price": "Compare-at price", "Cost per item": "Cost per item",
    "Variant Taxable": "Charge tax", "Variant Inventory Tracker": "Inventory tracker",
    "Variant Inventory Qty": "Inventory quantity", "Variant Inventory Policy": "Continue selling when out of stock",
    "Variant Grams": "Weight value (grams)", "Variant Weight Unit": "Weight unit for display",
    "Variant Requires Shipping": "Requires shipping", "Variant Fulfillment Service": "Fulfillment service",
    "Image Src": "Product image URL", "Image Position": "Image position", "Image Alt Text": "Image alt text",
    "Variant Image": "Variant image URL", "Gift Card": "Gift card", "SEO Title": "SEO title",
    "SEO Description": "SEO description",
}
CURRENT_COLUMNS = tuple(CURRENT_NAMES.values())
REQUIRED = {CLASSIC: ("Handle", "Title"), CURRENT: ("Title",)}
EXAMPLES = {CLASSIC: "Handle, Title, Option1 Name, Option1 Value, Variant SKU, Variant Price",
            CURRENT: "Title, URL handle, Option1 name, Option1 value, SKU, Price"}
# Columns Vitrine reads past although they are Shopify's: it assumes these
# values, so only a cell saying something else is counted as not imported.
ASSUMED = {"Variant Inventory Policy": {"deny", "false", "no"}, "Variant Fulfillment Service": {"manual"},
           "Variant Requires Shipping": {"true", "yes"}, "Gift Card": {"false", "no"}}
EXTRA_OPTION_RE = re.compile(r"^option([4-9]|\d{2,}) (name|value)$")
MAX_IGNORED = 200  # columns listed as not imported; a header of thousands is cut short
_CANONICAL = {**{name.casefold(): name for name in COLUMNS},
              **{current.casefold(): classic for classic, current in CURRENT_NAMES.items()}}


def file_error(message: str) -> CatalogError:
    return CatalogError(Code.INVALID, message, "file")


@dataclass
class Header:
    columns: dict[str, int]  # classic column name -> index
    width: int
    format: str
    ignored: list[tuple[str, int]]  # (name as written, index) of columns not kept
    assumed: list[tuple[str, int, set[str]]]  # (classic name, index, the values Vitrine assumes)

    def ignored_counts(self, records) -> dict[str, int]:
        """Non-blank cells of each column not kept, over `records` (rows of cells)."""
        counts = dict.fromkeys([name for name, _ in self.ignored] + [self.display(n) for n, _, _ in self.assumed], 0)
        for record in records:
            for name, index in self.ignored:
                if index < len(record) and record[index].strip():
                    counts[name] += 1
            for name, index, values in self.assumed:
                cell = record[index].strip().casefold() if index < len(record) else ""
                if cell and cell not in values:
                    counts[self.display(name)] += 1
        return {name: count for name, count in counts.items() if count}

    def display(self, classic: str) -> str:
        return CURRENT_NAMES[classic] if self.format == CURRENT else classic


def read(header: list[str]) -> Header:
    """The header row read into classic names; raises a file-level CatalogError for a bad one."""
    names = [" ".join(raw.split()) for raw in header]
    keys = [name.casefold() for name in names]
    fmt = CURRENT if "url handle" in keys or ("title" in keys and "handle" not in keys) else CLASSIC
    columns, ignored, seen = {}, [], set()
    for index, (name, key) in enumerate(zip(names, keys)):
        if key and key in seen:
            raise file_error(f"The column “{name}” appears twice in the header.")
        seen.add(key)
        canonical = _CANONICAL.get(key)
        if canonical in columns:
            raise file_error(f"The columns “{names[columns[canonical]]}” and “{name}” both give the "
                             f"{CURRENT_NAMES[canonical] if fmt == CURRENT else canonical}; keep one.")
        if canonical:
            columns[canonical] = index
        elif EXTRA_OPTION_RE.match(key):
            columns[name.title()] = index
        elif key and len(ignored) < MAX_IGNORED:
            ignored.append((name[:120], index))
    missing = [name for name in REQUIRED[fmt] if name not in columns]
    if missing:
        shown = [CURRENT_NAMES[name] if fmt == CURRENT else name for name in missing]
        raise file_error(f"The file is missing required column{'s' * (len(missing) > 1)}: {', '.join(shown)}. "
                         "The first row must be the column names of Shopify's product CSV, such as "
                         f"{EXAMPLES[fmt]}.")
    assumed = [(name, columns.pop(name), values) for name, values in ASSUMED.items() if name in columns]
    return Header(columns, len(header), fmt, ignored, assumed)
