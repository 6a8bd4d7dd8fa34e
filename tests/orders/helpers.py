"""Shared by the order tests: real orders placed through the API against the Stripe emulator, the rows
an order owns (to prove a refusal changed nothing), and the mails written to var/mail."""
from __future__ import annotations

import uuid
from email import message_from_bytes, policy
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db
from app.orders.models import Order, OrderLine
from tenants.session import tenant_engine
from tests.checkout.helpers import Shopper
from tests.conftest import TEST_VAR, as_store

ACTOR = "owner@example.com"
TABLES = ("orders", "order_lines", "order_events", "shipments", "refunds", "payments", "inventory_levels",
          "discount_redemptions", "outbox")


def place(app, shop, items: dict[str, int], *, card: str | None = "pm_card_visa", **changes) -> dict:
    """A confirmed order (its JSON) for a shopper with an email of its own."""
    changes.setdefault("email", f"shopper-{uuid.uuid4().hex[:10]}@example.com")
    return Shopper(app, shop).order(items, card=card, **changes)


def order_id(app, shop, token: str) -> int:
    with as_store(app, shop.store):
        return db.session.scalar(sa.select(Order.id).where(Order.token == token))


def line_ids(app, shop, token: str) -> dict[str, int]:
    """title -> order line id"""
    with as_store(app, shop.store):
        return dict(db.session.execute(sa.select(OrderLine.title, OrderLine.id).join(
            Order, Order.id == OrderLine.order_id).where(Order.token == token)).all())


def state(app, shop, token: str) -> tuple[str, str, str]:
    with as_store(app, shop.store):
        row = db.session.execute(sa.select(Order.status, Order.payment_status, Order.fulfillment_status)
                                 .where(Order.token == token)).one()
        return tuple(row)


def rows(app, store) -> dict[str, list[str]]:
    with as_store(app, store):
        return {table: db.session.execute(sa.text(f"SELECT t::text FROM {table} t ORDER BY t.id"),
                                          bind_arguments={"bind": tenant_engine(db)}).scalars().all()
                for table in TABLES}


def mails_to(address: str) -> list:
    """The messages written to var/mail for `address` (the test app has no SMTP_URL)."""
    found = []
    for path in sorted(Path(TEST_VAR, "mail").glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if address in message["To"]:
            found.append(message)
    return found
