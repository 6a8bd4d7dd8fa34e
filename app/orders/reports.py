"""Reading orders for the dashboard: the filtered list (and its CSV export),
and the home page's figures for the last 30 days."""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import sqlalchemy as sa

from app import parse
from app.extensions import db
from app.inventory.reservations import carts_that_held
from app.orders.models import FULFILMENT_STATUSES, PAYMENT_STATUSES, STATUSES, Order
from app.pagination import Page, paginate

PER_PAGE = 50
UNPLACED = ("pending_payment", "payment_failed")  # checkouts that never became orders: listed only when asked for
_NUMBER = re.compile(r"#?\s*([0-9]{1,9})")
PERIOD_DAYS = 30
EXPORT_BATCH = 500


@dataclass(frozen=True)
class OrderFilter:
    status: str = ""
    payment_status: str = ""
    fulfillment_status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping) -> OrderFilter:
        """From the query string; a value no choice on the page gives is a 400 naming it."""
        return cls(status=_choice(args, "status", STATUSES), payment_status=_choice(args, "payment_status",
                                                                                     PAYMENT_STATUSES),
                   fulfillment_status=_choice(args, "fulfillment_status", FULFILMENT_STATUSES),
                   date_from=_date(args, "date_from"), date_to=_date(args, "date_to"),
                   q=parse.text(args.get("q"), field="q", label="The search", max_length=254) if _one(args, "q")
                   else "")

    def args(self) -> dict[str, str]:
        """The filter as query parameters (for page links and the export)."""
        values = {"status": self.status, "payment_status": self.payment_status,
                  "fulfillment_status": self.fulfillment_status, "q": self.q,
                  "date_from": self.date_from.isoformat() if self.date_from else "",
                  "date_to": self.date_to.isoformat() if self.date_to else ""}
        return {key: value for key, value in values.items() if value}


def _one(args: Mapping, name: str) -> bool:
    values = args.getlist(name) if hasattr(args, "getlist") else [args.get(name)]
    if len(values) > 1:
        raise parse.bad(f"Give {name.replace('_', ' ')} once.", name, status=400)
    return bool(values and values[0])


def _choice(args: Mapping, name: str, choices: tuple[str, ...]) -> str:
    if not _one(args, name):
        return ""
    value = args.get(name)
    if value not in choices:
        raise parse.bad(f"Choose a {name.replace('_', ' ')} from the list.", name, status=400)
    return value


def _date(args: Mapping, name: str) -> date | None:
    if not _one(args, name):
        return None
    raw = args.get(name)
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
            raise ValueError
        value = date.fromisoformat(raw)
    except ValueError:
        raise parse.bad("Enter dates as YYYY-MM-DD.", name, status=400) from None
    if not 2000 <= value.year <= 2999:
        raise parse.bad("Enter a date between the years 2000 and 2999.", name, status=400)
    return value


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.utc)


def _query(filters: OrderFilter) -> sa.Select:
    query = sa.select(Order)
    if filters.status:
        query = query.where(Order.status == filters.status)
    else:
        query = query.where(Order.status.not_in(UNPLACED))
    if filters.payment_status:
        query = query.where(Order.payment_status == filters.payment_status)
    if filters.fulfillment_status:
        query = query.where(Order.fulfillment_status == filters.fulfillment_status)
    if filters.date_from:
        query = query.where(Order.created_at >= _midnight(filters.date_from))
    if filters.date_to:
        query = query.where(Order.created_at < _midnight(filters.date_to) + timedelta(days=1))
    if filters.q:
        number = _NUMBER.fullmatch(filters.q)
        if number:
            query = query.where(Order.number == int(number.group(1)))
        else:
            escaped = filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Order.email.ilike(f"%{escaped}%", escape="\\"))
    return query.order_by(Order.created_at.desc(), Order.id.desc())


def orders_page(filters: OrderFilter, page: int) -> Page[Order]:
    return paginate(_query(filters), page=page, per_page=PER_PAGE)


# -- CSV export -------------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("Order", "Created (UTC)", "Email", "Status", "Payment", "Fulfilment", "Currency", "Subtotal",
                  "Discount", "Shipping", "Tax", "Total", "Discount code", "Shipping method", "Ship to")


def safe_cell(value) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab or CR) would run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _decimal(amount: int, currency: str) -> str:
    from app.money import precision

    places = precision(currency)
    if not places:
        return str(amount)
    whole, fraction = divmod(amount, 10**places)  # integers only: no float ever rounds a price
    return f"{whole}.{fraction:0{places}d}"


def export_rows(filters: OrderFilter) -> Iterator[str]:
    """The filtered list as CSV, a few hundred rows at a time (streamed, never all in memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(EXPORT_COLUMNS)
    yield flush()
    query = _query(filters)
    offset = 0
    while True:
        batch = list(db.session.scalars(query.limit(EXPORT_BATCH).offset(offset)))
        for order in batch:
            writer.writerow([safe_cell(value) for value in _export_row(order)])
        if batch:
            yield flush()
        if len(batch) < EXPORT_BATCH:
            return
        offset += EXPORT_BATCH


def _export_row(order: Order) -> list:
    money = lambda amount: _decimal(amount, order.currency)  # noqa: E731
    address = order.shipping_address or {}
    ship_to = ", ".join(str(address.get(part) or "") for part in ("name", "city", "country") if address.get(part))
    return [order.name, order.created_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M"), order.email,
            order.status, order.payment_status, order.fulfillment_status, order.currency, money(order.subtotal),
            money(order.discount_total), money(order.shipping_total), money(order.tax_total), money(order.total),
            order.discount_code or "", order.shipping_method or "", ship_to]


# -- the home page's figures ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Day:
    day: date
    sales: int
    orders: int
    height: int  # 0..20: the bar's height class (CSS, no inline styles)


@dataclass(frozen=True)
class Sales:
    days: list[Day]
    orders: int
    total: int
    average: int | None
    carts: int
    conversion: float | None  # orders confirmed / distinct carts that held stock

    @property
    def best(self) -> int:
        return max((day.sales for day in self.days), default=0)


SOLD = ("confirmed", "partially_fulfilled", "fulfilled", "delivered", "refunded")


def sales(today: date | None = None) -> Sales:
    """Orders confirmed in the last PERIOD_DAYS days (UTC, today included), per day: their totals (cancelled
    orders left out), how many, the average, and how many of the carts that held stock became an order."""
    today = today or datetime.now(timezone.utc).date()
    first = today - timedelta(days=PERIOD_DAYS - 1)
    day = sa.func.date(sa.func.timezone("UTC", Order.confirmed_at))
    rows = db.session.execute(sa.select(day, sa.func.count(), sa.func.coalesce(sa.func.sum(Order.total), 0))
                              .where(Order.confirmed_at >= _midnight(first), Order.status.in_(SOLD))
                              .group_by(day)).all()
    confirmed = db.session.scalar(sa.select(sa.func.count()).where(Order.confirmed_at >= _midnight(first)))
    per_day = {row[0]: (int(row[1]), int(row[2])) for row in rows}
    dates = [first + timedelta(days=n) for n in range(PERIOD_DAYS)]
    best = max((total for _, total in per_day.values()), default=0)
    days = [Day(d, per_day.get(d, (0, 0))[1], per_day.get(d, (0, 0))[0],
                round(20 * per_day.get(d, (0, 0))[1] / best) if best else 0) for d in dates]
    count, total = sum(d.orders for d in days), sum(d.sales for d in days)
    carts = carts_that_held(dates)
    return Sales(days, count, total, total // count if count else None, carts,
                 min(1.0, confirmed / carts) if carts else None)
