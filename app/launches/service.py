"""Launches: setting them up and ending them (the dashboard), which launch
governs a product now, and the admission check the cart makes.

A launch governs its product from the moment it is scheduled until it
ends (the merchant ends it, or its end time passes): before the room opens
the product cannot be bought at all, and once it opens only with a pass.
(Governing only from the start would let anyone buy the product in the
minutes before a launch, which is what the launch is there to prevent.)

Which launches are live is read on every add to cart, so it is cached per
store in Redis (one GET, no query) and dropped after the commit of any
change to a launch (the listener below); with Redis away it is read from
PostgreSQL, one indexed query.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum

import sqlalchemy as sa

from app import parse
from app.catalog.models import Product
from app.domain_errors import DomainError
from app.effects import listener
from app.extensions import db, get_redis, redis_breaker
from app.launches import passes
from app.launches.events import LAUNCH_CHANGED, launch_changed
from app.launches.models import KINDS, MAX_PASS_MINUTES, MAX_RATE, MAX_WINNERS, Launch
from app.launches.passes import PASS_COOKIE, PASS_HEADER  # noqa: F401  (the interface the cart uses)
from app.pagination import Page, paginate
from app.store.limits import count_for_insert
from tenants.context import require_store

MAX_LAUNCHES = 50  # per store, ended ones included (a store that needs more can delete none: they are its record)
LIVE_TTL = 60  # seconds the live-launch cache is kept (a lost invalidation, a renamed product, heal within this)
EARLIEST_START = timedelta(minutes=10)  # a start this far in the past is a typo, not "now"
LATEST_START = timedelta(days=366)


class LaunchErrorCode(str, Enum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    LIMIT_REACHED = "limit_reached"
    TAKEN = "taken"
    PASS_REQUIRED = "pass_required"
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    ALREADY_ENTERED = "already_entered"


class LaunchError(DomainError):
    """A refused launch action, nothing changed; `url` is where the shopper
    can get a place (the waiting room or the draw), when there is one."""

    def __init__(self, code, message, field=None, status=None, url: str | None = None):
        super().__init__(code, message, field, status)
        self.url = url


class LaunchRefused(LaunchError):
    """The dashboard's form with fields at fault: `errors` maps each to its message."""

    def __init__(self, errors: dict[str, str], status: int = 422):
        super().__init__(LaunchErrorCode.INVALID, " ".join(errors.values()), next(iter(errors)), status=status)
        self.errors = errors


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# -- the live launches of a store, cached -----------------------------------------------------------------------------

@dataclass(frozen=True)
class LaunchInfo:
    """A launch that is not ended, as the storefront and the cart need it (plain values, cacheable)."""

    id: int
    product_id: int
    product_handle: str
    product_title: str
    kind: str
    status: str
    starts_at: datetime
    entry_ends_at: datetime | None
    ends_at: datetime | None
    rate_per_minute: int | None
    winners: int | None
    pass_minutes: int

    @property
    def url(self) -> str:
        return f"/launches/{self.id}"

    def governs(self, now: datetime) -> bool:
        return self.status != "ended" and (self.ends_at is None or now < self.ends_at)

    def to_json(self) -> dict:
        data = asdict(self)
        for name in ("starts_at", "entry_ends_at", "ends_at"):
            data[name] = data[name].isoformat() if data[name] else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> LaunchInfo:
        for name in ("starts_at", "entry_ends_at", "ends_at"):
            data[name] = datetime.fromisoformat(data[name]) if data[name] else None
        return cls(**data)


def _live_key(store_id: int) -> str:
    return f"vitrine:launches:{int(store_id)}:live"


def live_launches() -> dict[int, LaunchInfo]:
    """{product id: its launch} for the store's launches that are not ended."""
    store_id = require_store().id
    breaker = redis_breaker()
    cached = breaker.call(get_redis().get, _live_key(store_id))
    if cached is not None:
        return {info.product_id: info for info in map(LaunchInfo.from_json, json.loads(cached))}
    infos = _read_live()
    breaker.call(get_redis().set, _live_key(store_id), json.dumps([i.to_json() for i in infos]), ex=LIVE_TTL)
    return {info.product_id: info for info in infos}


def _read_live() -> list[LaunchInfo]:
    rows = db.session.execute(
        sa.select(Launch, Product.handle, Product.title)
        .join(Product, sa.and_(Product.store_id == Launch.store_id, Product.id == Launch.product_id))
        .where(Launch.status != "ended")).all()
    return [info_of(launch, handle, title) for launch, handle, title in rows]


def info_of(launch: Launch, handle: str, title: str) -> LaunchInfo:
    return LaunchInfo(launch.id, launch.product_id, handle, title, launch.kind, launch.status,
                      launch.starts_at.astimezone(timezone.utc),
                      launch.entry_ends_at.astimezone(timezone.utc) if launch.entry_ends_at else None,
                      launch.ends_at.astimezone(timezone.utc) if launch.ends_at else None,
                      launch.rate_per_minute, launch.winners, launch.pass_minutes)


def live_launch(launch_id: int) -> LaunchInfo | None:
    return next((info for info in live_launches().values() if info.id == launch_id), None)


def governing(product_id: int, now: datetime | None = None) -> LaunchInfo | None:
    """The launch that governs the product now, if any (no query while the cache holds)."""
    info = live_launches().get(product_id)
    return info if info is not None and info.governs(now or utcnow()) else None


def forget_live(store_id: int | None) -> None:
    if store_id is not None:
        redis_breaker().call(get_redis().delete, _live_key(store_id))


# Not on PRODUCT_CHANGED: every sale emits it (stock is part of a product's document), and dropping the
# cache for each would send the busiest minute of a launch to PostgreSQL; a renamed product shows within LIVE_TTL.
listener(LAUNCH_CHANGED)(forget_live)


# -- the admission check (the cart calls it on every add) ------------------------------------------------------------

def check_admission(product_id: int, pass_token: str | None, now: datetime | None = None) -> None:
    """No-op when no launch governs the product now; raises LaunchError (403,
    a message for the shopper, `.url` = the waiting room or the draw) when
    the pass is missing, expired, forged or for another launch or store."""
    now = now or utcnow()
    info = governing(product_id, now)
    if info is None:
        return
    verify_pass(info, pass_token, now)


def verify_pass(info: LaunchInfo, token: str | None, now: datetime) -> passes.Pass:
    place = "the waiting room" if info.kind == "queue" else "the draw"
    found = passes.read(token)
    if not token and now < info.starts_at:
        opens = "The line opens" if info.kind == "queue" else "Entries open"
        message = (f"{info.product_title} is being released through {place}. {opens} at "
                   f"{info.starts_at:%d %b %Y, %H:%M} UTC.")
    elif not token:
        message = f"{info.product_title} is being released through {place}: take a place there to buy it."
    elif found is None or found.store_id != require_store().id or found.launch_id != info.id:
        message = f"That pass is not for {info.product_title}. Take a place in {place} to buy it."
    elif found.expires_at <= now:
        message = f"Your pass for {info.product_title} has expired."
    else:
        return found
    raise LaunchError(LaunchErrorCode.PASS_REQUIRED, message, status=403, url=info.url)


# -- setting up and ending launches (the dashboard) -------------------------------------------------------------------

def parse_moment(value, *, field: str, label: str, required: bool = True) -> datetime | None:
    """A UTC time from a datetime-local field ("2026-12-01T19:00", seconds optional)."""
    raw = "" if value is None else str(value).strip()
    if not raw:
        if required:
            raise parse.bad(f"{label} is required.", field)
        return None
    if len(raw) > 19 or not raw.isascii():
        raise parse.bad(f"{label} must be a date and time such as 2026-12-01T19:00.", field)
    try:
        moment = datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S" if raw.count(":") == 2 else "%Y-%m-%dT%H:%M")
    except ValueError:
        raise parse.bad(f"{label} must be a date and time such as 2026-12-01T19:00.", field) from None
    return moment.replace(tzinfo=timezone.utc)


def _fields(form: Mapping, now: datetime) -> tuple[dict, dict[str, str]]:
    values, errors = {}, {}
    kind = str(form.get("kind", ""))
    if kind not in KINDS:
        errors["kind"] = "Choose a waiting room or a draw."

    def check(name, fn):
        try:
            values[name] = fn()
        except parse.BadInput as error:
            errors[name] = error.message

    check("product_id", lambda: parse.record_id(form.get("product_id"), field="product_id", label="The product"))
    check("starts_at", lambda: parse_moment(form.get("starts_at"), field="starts_at",
                                            label="The start" if kind != "draw" else "The opening of entries"))
    check("ends_at", lambda: parse_moment(form.get("ends_at"), field="ends_at", label="The end", required=False))
    check("pass_minutes", lambda: parse.whole_number(form.get("pass_minutes"), field="pass_minutes",
                                                     label="The pass lifetime", minimum=1,
                                                     maximum=MAX_PASS_MINUTES, default=10))
    if kind == "queue":
        check("rate_per_minute", lambda: _required(parse.whole_number(
            form.get("rate_per_minute"), field="rate_per_minute", label="The admission rate", minimum=1,
            maximum=MAX_RATE), "rate_per_minute", "The admission rate"))
    elif kind == "draw":
        check("entry_ends_at", lambda: parse_moment(form.get("entry_ends_at"), field="entry_ends_at",
                                                    label="The close of entries"))
        check("winners", lambda: _required(parse.whole_number(
            form.get("winners"), field="winners", label="The number of winners", minimum=1, maximum=MAX_WINNERS),
            "winners", "The number of winners"))
    _check_times(values, errors, now)
    values["kind"] = kind
    return values, errors


def _required(number: int | None, field: str, label: str) -> int:
    if number is None:
        raise parse.bad(f"{label} is required.", field)
    return number


def _check_times(values: dict, errors: dict[str, str], now: datetime) -> None:
    starts, ends, entries_end = values.get("starts_at"), values.get("ends_at"), values.get("entry_ends_at")
    if starts is not None and not now - EARLIEST_START <= starts <= now + LATEST_START:
        errors["starts_at"] = "The start must be from now to a year ahead."
    if starts is not None and entries_end is not None and entries_end <= starts:
        errors["entry_ends_at"] = "Entries must close after they open."
    later_than = entries_end or starts
    if ends is not None and later_than is not None and ends <= later_than:
        errors["ends_at"] = "The end must come after the start" + (" and the close of entries." if entries_end
                                                                   else ".")


def create_launch(form: Mapping, actor: str, now: datetime | None = None) -> Launch:
    """A new queue or draw for an active product (one live launch per product, MAX_LAUNCHES per store)."""
    now = now or utcnow()
    values, errors = _fields(form, now)
    if errors:
        raise LaunchRefused(errors)
    product = db.session.get(Product, (require_store().id, values["product_id"]))
    if product is None:
        raise LaunchRefused({"product_id": "No such product in this store: pick one from the list."})
    if product.status != "active":
        raise LaunchRefused({"product_id": f"{product.title} is not active: shoppers cannot see it. Make it "
                                           "active first (it sells only with a pass once the launch is set up)."})
    if count_for_insert(Launch) >= MAX_LAUNCHES:
        raise LaunchError(LaunchErrorCode.LIMIT_REACHED, f"This store has {MAX_LAUNCHES} launches, the most it can "
                          "have.", "product_id", status=409)
    if db.session.scalar(sa.select(Launch.id).where(Launch.product_id == product.id, Launch.status != "ended")):
        raise LaunchRefused({"product_id": f"{product.title} already has a launch that has not ended."}, status=409)
    launch = Launch(status="scheduled", created_by=actor, **values)
    db.session.add(launch)
    launch_changed()
    try:
        db.session.flush()
    except sa.exc.IntegrityError:  # another launch of the product, created at the same moment
        db.session.rollback()
        raise LaunchRefused({"product_id": f"{product.title} already has a launch that has not ended."},
                            status=409) from None
    db.session.commit()
    return launch


def get_launch(launch_id: int, *, for_update: bool = False) -> Launch:
    query = sa.select(Launch).where(Launch.id == launch_id)
    launch = db.session.scalar(query.with_for_update() if for_update else query)
    if launch is None:
        raise LaunchError(LaunchErrorCode.NOT_FOUND, "No such launch in this store.", status=404)
    return launch


def end_launch(launch_id: int, now: datetime | None = None) -> Launch:
    """Over: the product sells as usual again (ending twice is harmless)."""
    launch = get_launch(launch_id, for_update=True)
    if launch.status != "ended":
        launch.status, launch.ended_at = "ended", now or utcnow()
        launch_changed()
    db.session.commit()
    return launch


def close_sold_out(launch_id: int, now: datetime) -> bool:
    """Record that a queue stopped admitting because nothing can be reserved any more (once)."""
    closed = db.session.execute(sa.update(Launch).where(Launch.id == launch_id, Launch.status == "scheduled",
                                                        Launch.kind == "queue")
                                .values(status="closed", closed_at=now)).rowcount
    if closed:
        launch_changed()
    db.session.commit()
    return bool(closed)


def launches_page(page: int, per_page: int = 25) -> Page:
    """Rows of (launch, product title) for the dashboard, newest first."""
    query = (sa.select(Launch, Product.title)
             .join(Product, sa.and_(Product.store_id == Launch.store_id, Product.id == Launch.product_id))
             .order_by(Launch.created_at.desc(), Launch.id.desc()))
    return paginate(query, page=page, per_page=per_page, rows=True)


def product_choices(limit: int = 500) -> list[tuple[int, str]]:
    """Active products a launch can be set up for (the form's list), by title."""
    rows = db.session.execute(sa.select(Product.id, Product.title).where(Product.status == "active")
                              .order_by(Product.title, Product.id).limit(limit))
    return [(product_id, title) for product_id, title in rows]


def product_title(product_id: int) -> str:
    return db.session.scalar(sa.select(Product.title).where(Product.id == product_id)) or ""
