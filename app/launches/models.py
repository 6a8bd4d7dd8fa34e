"""Product launches (migration t0013): a waiting room ("queue") or a lottery
("draw") in front of one product, and the draw's entries.

A queue's line itself lives in Redis (app.launches.room): tickets are too
many and too short-lived for PostgreSQL; what the merchant set up, and what
happened to the room (closed because sold out, ended), is kept here. A
draw's entries are rows, since the draw must be auditable: its seed is
recorded and every entry keeps its rank in the drawn order.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.catalog.models import same_store_fk
from tenants.tenant_model import TenantModel

KINDS = ("queue", "draw")
# scheduled: set up (a queue admits from starts_at; a draw takes entries in its window);
# closed: a queue that stopped admitting because nothing could be reserved any more;
# drawn: a draw whose winners were drawn; ended: over, the product sells as usual again.
STATUSES = ("scheduled", "closed", "drawn", "ended")
ENTRY_STATUSES = ("entered", "won", "claimed", "lapsed")
MAX_RATE = 60_000  # admissions per minute (1,000 a second: the room counts in milliseconds)
MAX_WINNERS = 100_000
MAX_PASS_MINUTES = 24 * 60


def _now() -> datetime:
    return datetime.now().astimezone()


class Launch(TenantModel):
    """One launch of one product. At most one launch of a product is not
    ended at a time (the partial unique index)."""

    __tablename__ = "launches"
    __table_args__ = (
        same_store_fk("product_id", "products", ondelete="CASCADE"),
        sa.CheckConstraint("kind IN ('queue', 'draw')", name="launches_kind"),
        sa.CheckConstraint("status IN ('scheduled', 'closed', 'drawn', 'ended')", name="launches_status"),
        sa.CheckConstraint(f"pass_minutes BETWEEN 1 AND {MAX_PASS_MINUTES}", name="launches_pass_minutes"),
        sa.CheckConstraint(f"kind <> 'queue' OR rate_per_minute BETWEEN 1 AND {MAX_RATE}", name="launches_rate"),
        sa.CheckConstraint(f"kind <> 'draw' OR (winners BETWEEN 1 AND {MAX_WINNERS} AND entry_ends_at > starts_at)",
                           name="launches_draw"),
        sa.CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="launches_ends_at"),
        sa.Index("launches_one_live", "store_id", "product_id", unique=True,
                 postgresql_where=sa.text("status <> 'ended'")),
        sa.Index("launches_recent", "store_id", "created_at"),
    )

    product_id: Mapped[int] = mapped_column(sa.BigInteger)
    kind: Mapped[str] = mapped_column(sa.String(8))
    status: Mapped[str] = mapped_column(sa.String(16), default="scheduled")
    starts_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))  # queue opens / entries open
    entry_ends_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))  # draw only
    ends_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))  # optional: over by itself then
    rate_per_minute: Mapped[int | None] = mapped_column(sa.Integer)  # queue only
    winners: Mapped[int | None] = mapped_column(sa.Integer)  # draw only
    pass_minutes: Mapped[int] = mapped_column(sa.Integer)
    seed: Mapped[str | None] = mapped_column(sa.String(64))  # draw: the recorded seed of the drawn order
    drawn_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    prewarmed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    created_by: Mapped[str] = mapped_column(sa.String(254))


class LaunchEntry(TenantModel):
    """A customer's entry in a draw (one each). Once drawn every entry has a
    `rank`, its place in the drawn order; the first `winners` ranks get a
    pass, and a pass that lapses unclaimed goes to the next rank."""

    __tablename__ = "launch_entries"
    __table_args__ = (
        same_store_fk("launch_id", "launches", ondelete="CASCADE"),
        same_store_fk("customer_id", "customers", ondelete="CASCADE"),
        sa.UniqueConstraint("store_id", "launch_id", "customer_id"),
        sa.UniqueConstraint("store_id", "launch_id", "rank"),
        sa.CheckConstraint("status IN ('entered', 'won', 'claimed', 'lapsed')", name="launch_entries_status"),
        sa.Index("launch_entries_passes", "store_id", "launch_id", "status", "pass_expires_at"),
    )

    launch_id: Mapped[int] = mapped_column(sa.BigInteger)
    customer_id: Mapped[int] = mapped_column(sa.BigInteger)
    status: Mapped[str] = mapped_column(sa.String(16), default="entered")
    rank: Mapped[int | None] = mapped_column(sa.Integer)
    entered_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=_now)
    won_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    pass_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
