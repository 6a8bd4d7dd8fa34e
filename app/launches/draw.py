"""The draw: entries in a window, winners drawn with a recorded seed, passes
mailed after the commit, and lapsed passes rolled to the next entrants.

The drawn order is a pure function of the seed and the entry ids: each
entry's place is the SHA-256 of "seed:entry id", smallest first. Every
entrant appears exactly once (it is an ordering of the entries), the order
can be re-derived by anyone who has the seed and the ids (`replay`), and
an entry that disappears later (a deleted account) moves no one else.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from app.customers.models import Customer
from app.extensions import db
from app.inventory.service import available_units
from app.launches import passes
from app.launches.events import launch_changed, pass_won
from app.launches.models import Launch, LaunchEntry
from app.launches.service import LaunchError, LaunchErrorCode, LaunchInfo, get_launch, utcnow, verify_pass
from tenants.context import require_store

ROLL_BATCH = 200  # passes one launch rolls per run of the job (the rest next run: fair across stores)


def draw_order(seed: str, entry_ids: list[int]) -> list[int]:
    """The entry ids in drawn order for this seed."""
    return sorted(set(entry_ids), key=lambda entry_id: (hashlib.sha256(f"{seed}:{entry_id}".encode()).digest(),
                                                        entry_id))


# -- entering ---------------------------------------------------------------------------------------------------------

def enter(info: LaunchInfo, customer_id: int, now: datetime) -> LaunchEntry:
    """The customer's one entry; a second is refused (409) and changes nothing."""
    if info.kind != "draw":
        raise LaunchError(LaunchErrorCode.NOT_FOUND, "This launch is not a draw.", status=404)
    if now < info.starts_at:
        raise LaunchError(LaunchErrorCode.NOT_OPEN, f"Entries open at {info.starts_at:%d %b %Y, %H:%M} UTC.",
                          status=409, url=info.url)
    if info.status != "scheduled" or now >= info.entry_ends_at or not info.governs(now):
        raise LaunchError(LaunchErrorCode.CLOSED, "Entries to this draw have closed.", status=410, url=info.url)
    entry_id = db.session.scalar(
        insert(LaunchEntry).values(store_id=require_store().id, launch_id=info.id, customer_id=customer_id,
                                   status="entered", entered_at=now)
        .on_conflict_do_nothing(index_elements=["store_id", "launch_id", "customer_id"]).returning(LaunchEntry.id))
    if entry_id is None:
        db.session.rollback()
        raise LaunchError(LaunchErrorCode.ALREADY_ENTERED, "You have already entered this draw: one entry each.",
                          status=409, url=info.url)
    db.session.commit()
    return db.session.get(LaunchEntry, (require_store().id, entry_id))


def entry_of(launch_id: int, customer_id: int) -> LaunchEntry | None:
    return db.session.scalar(sa.select(LaunchEntry).where(LaunchEntry.launch_id == launch_id,
                                                          LaunchEntry.customer_id == customer_id))


def entry_count(launch_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(LaunchEntry.launch_id == launch_id)) or 0


# -- drawing ----------------------------------------------------------------------------------------------------------

def run_draw(launch_id: int, now: datetime | None = None, seed: str | None = None) -> Launch:
    """Draw once entries have closed: rank every entry, give the first
    `winners` a pass (mailed after the commit). A second draw is refused."""
    now = now or utcnow()
    launch = get_launch(launch_id, for_update=True)
    if launch.kind != "draw":
        raise LaunchError(LaunchErrorCode.INVALID, "Only a draw has winners to draw.", status=409)
    if launch.status != "scheduled":
        raise LaunchError(LaunchErrorCode.CLOSED, "This draw has already taken place." if launch.seed
                          else "This launch has ended.", status=409)
    if now < launch.entry_ends_at:
        raise LaunchError(LaunchErrorCode.NOT_OPEN, f"Entries are open until "
                          f"{launch.entry_ends_at:%d %b %Y, %H:%M} UTC: draw after that.", status=409)
    launch.seed = seed or secrets.token_hex(16)
    ids = list(db.session.scalars(sa.select(LaunchEntry.id).where(LaunchEntry.launch_id == launch.id)))
    order = draw_order(launch.seed, ids)
    if order:
        ranks = sa.values(sa.column("id", sa.BigInteger), sa.column("rank", sa.Integer), name="drawn") \
            .data([(entry_id, rank) for rank, entry_id in enumerate(order, 1)])
        db.session.execute(sa.update(LaunchEntry).where(LaunchEntry.id == ranks.c.id)
                           .values(rank=ranks.c.rank))
    _give_passes(launch, order[:launch.winners], now)
    launch.status, launch.drawn_at = "drawn", now
    launch_changed()
    db.session.commit()
    return launch


def _give_passes(launch: Launch, entry_ids: list[int], now: datetime) -> None:
    if not entry_ids:
        return
    db.session.execute(sa.update(LaunchEntry).where(LaunchEntry.id.in_(entry_ids))
                       .values(status="won", won_at=now, pass_expires_at=now + timedelta(minutes=launch.pass_minutes)))
    for entry_id in entry_ids:
        pass_won(entry_id)


def replay(launch: Launch) -> bool:
    """Whether re-drawing from the recorded seed gives the ranks on record (the audit)."""
    if not launch.seed:
        return False
    rows = db.session.execute(sa.select(LaunchEntry.id, LaunchEntry.rank).where(LaunchEntry.launch_id == launch.id)
                              .order_by(LaunchEntry.rank)).all()
    return [entry_id for entry_id, _ in rows] == draw_order(launch.seed, [entry_id for entry_id, _ in rows])


# -- rolling lapsed passes (the periodic job) -------------------------------------------------------------------------

def roll(launch_id: int, now: datetime | None = None) -> int:
    """Passes that ran out unclaimed lapse; as many of the next entrants in
    drawn order get one, while a unit can still be reserved. Safe to run
    twice (and at once: the launch row is locked, a busy one skipped)."""
    now = now or utcnow()
    launch = db.session.scalar(sa.select(Launch).where(Launch.id == launch_id, Launch.status == "drawn")
                               .with_for_update(skip_locked=True))
    if launch is None or (launch.ends_at is not None and launch.ends_at <= now):
        db.session.commit()
        return 0
    lapsed = list(db.session.scalars(
        sa.select(LaunchEntry.id).where(LaunchEntry.launch_id == launch.id, LaunchEntry.status == "won",
                                        LaunchEntry.pass_expires_at <= now)
        .order_by(LaunchEntry.rank).limit(ROLL_BATCH)))
    if not lapsed:
        db.session.commit()
        return 0
    db.session.execute(sa.update(LaunchEntry).where(LaunchEntry.id.in_(lapsed)).values(status="lapsed"))
    units = available_units(launch.product_id)
    count = len(lapsed) if units is None else min(len(lapsed), max(0, units))
    following = list(db.session.scalars(
        sa.select(LaunchEntry.id).where(LaunchEntry.launch_id == launch.id, LaunchEntry.status == "entered",
                                        LaunchEntry.rank.is_not(None))
        .order_by(LaunchEntry.rank).limit(count)))
    _give_passes(launch, following, now)
    db.session.commit()
    return len(following)


def drawn_launches_due(now: datetime) -> list[int]:
    """Drawn launches with a pass that ran out unclaimed."""
    return list(db.session.scalars(
        sa.select(Launch.id).where(Launch.status == "drawn", sa.exists().where(
            LaunchEntry.store_id == Launch.store_id, LaunchEntry.launch_id == Launch.id,
            LaunchEntry.status == "won", LaunchEntry.pass_expires_at <= now))))


# -- passes ------------------------------------------------------------------------------------------------------------

def pass_for(entry: LaunchEntry) -> str:
    """The entry's pass (the same token however often it is made: the mail can be sent twice)."""
    return passes.issue(require_store().id, entry.launch_id, "d", entry.id, entry.pass_expires_at)


def claim(info: LaunchInfo, token: str | None, customer_id: int, now: datetime) -> LaunchEntry:
    """The winner takes up their pass (from the mailed link, logged in as the entrant)."""
    found = verify_pass(info, token, now)
    entry = db.session.get(LaunchEntry, (require_store().id, found.number)) if found.kind == "d" else None
    if entry is None or entry.launch_id != info.id or entry.status not in ("won", "claimed"):
        raise LaunchError(LaunchErrorCode.PASS_REQUIRED, "That pass is not valid any more.", status=403, url=info.url)
    if entry.customer_id != customer_id:
        raise LaunchError(LaunchErrorCode.PASS_REQUIRED, "That pass belongs to another customer's entry: log in "
                          "as the customer who entered.", status=403, url=info.url)
    if entry.status == "won":
        entry.status, entry.claimed_at = "claimed", now
    db.session.commit()
    return entry


@dataclass(frozen=True)
class EntryRow:
    rank: int | None
    status: str
    name: str
    email: str
    won_at: datetime | None
    pass_expires_at: datetime | None
    claimed_at: datetime | None


def results(launch_id: int, limit: int = 200) -> list[EntryRow]:
    """The dashboard's list: entrants with a pass (or had one) first by rank, then the rest in drawn order."""
    rows = db.session.execute(
        sa.select(LaunchEntry, Customer.name, Customer.email)
        .join(Customer, sa.and_(Customer.store_id == LaunchEntry.store_id, Customer.id == LaunchEntry.customer_id))
        .where(LaunchEntry.launch_id == launch_id)
        .order_by(LaunchEntry.rank.nulls_last(), LaunchEntry.entered_at, LaunchEntry.id).limit(limit)).all()
    return [EntryRow(e.rank, e.status, name, email, e.won_at, e.pass_expires_at, e.claimed_at)
            for e, name, email in rows]


def status_counts(launch_id: int) -> dict[str, int]:
    found = dict(db.session.execute(sa.select(LaunchEntry.status, sa.func.count())
                                    .where(LaunchEntry.launch_id == launch_id).group_by(LaunchEntry.status)).all())
    return {status: found.get(status, 0) for status in ("entered", "won", "claimed", "lapsed")}
