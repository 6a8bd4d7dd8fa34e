"""Pages of a list: the one place for the offset math and the page links.

`paginate` runs a select as one page plus its total; a list that is ranked
elsewhere (search) builds a `Page` from the items and total it was given.
A page past the end is an empty page that still knows the total, so its
"previous" link leads back to the last page.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar

import sqlalchemy as sa

from app.extensions import db

T = TypeVar("T")


def offset(page: int, per_page: int) -> int:
    """Rows before `page` (pages count from 1)."""
    return (page - 1) * per_page


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """How many pages the total fills (0 for an empty list)."""
        return math.ceil(self.total / self.per_page)

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None

    @property
    def prev_page(self) -> int | None:
        if self.page <= 1:
            return None
        return min(self.page - 1, self.pages) or None  # from past the end: the last page


def paginate(query: sa.Select, *, page: int, per_page: int, rows: bool = False) -> Page:
    """One page of `query` (which must be ordered, with a unique tie-breaker,
    for pages to be stable) and the number of rows it has in all. Items are
    the selected entity, or with `rows` the tuples of a select of several."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    result = db.session.execute(query.limit(per_page).offset(offset(page, per_page)))
    items = list(result.all() if rows else result.scalars())
    return Page(items, total, page, per_page)
