"""An import's report as a merchant reads it: a summary first, then the
products refused apart from the ones imported with warnings, the same
message on many rows as one line (with its count and the first few rows and
handles), a page at a time.

Report entries are dicts {"row", "handle", "message"} with a "kind":
"refused" (the product was not imported) or "warning" (it was, with
something left out); an entry without one is a refusal. Image warnings carry
the URL apart ("url"), so one problem on many images groups into one line.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.catalog.models import ImportJob
from app.pagination import Page, offset

PER_PAGE = 50  # report lines per page
SHOWN = 5  # rows, handles and URLs named in a line; the count says how many in all
KINDS = ("refused", "warning", "note")  # the order the report shows them in


@dataclass(frozen=True)
class Summary:
    created: int
    updated: int
    refused: int
    warnings: int
    images_total: int
    images_failed: int
    columns_ignored: list[str]


@dataclass
class Line:
    """One message and every entry that has it."""

    kind: str
    message: str
    count: int = 0
    rows: list[int] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def add(self, entry: dict) -> None:
        self.count += 1
        if entry.get("row") is not None and len(self.rows) < SHOWN:
            self.rows.append(entry["row"])
        handle = entry.get("handle") or ""
        if handle and handle not in self.handles and len(self.handles) < SHOWN:
            self.handles.append(handle)
        if entry.get("url") and len(self.urls) < SHOWN:
            self.urls.append(entry["url"])


def kind_of(entry: dict) -> str:
    return entry.get("kind") if entry.get("kind") in KINDS else "refused"


def summary(job: ImportJob) -> Summary:
    warned = {entry.get("handle") for entry in job.report or []
              if kind_of(entry) == "warning" and entry.get("handle")}  # not the store-wide notes
    return Summary(created=job.created_products, updated=job.updated_products, refused=job.failed_products,
                   warnings=len(warned), images_total=job.images_total, images_failed=job.images_failed,
                   columns_ignored=sorted(job.ignored_columns or {}))  # listed with counts on the job page


def lines(report: list[dict]) -> list[Line]:
    """Refusals, then warnings, then notes; within each, lines in the order
    their message first appears (the report is in file order)."""
    grouped: dict[tuple[str, str], Line] = {}
    for entry in report or []:
        key = (kind_of(entry), entry.get("message", ""))
        grouped.setdefault(key, Line(*key)).add(entry)
    return sorted(grouped.values(), key=lambda line: KINDS.index(line.kind))


def report_page(job: ImportJob, page: int, per_page: int = PER_PAGE) -> Page[Line]:
    """Page `page` of the report's lines; past the end, an empty page that knows the total."""
    every = lines(job.report)
    start = offset(page, per_page)
    return Page(every[start:start + per_page], len(every), page, per_page)
