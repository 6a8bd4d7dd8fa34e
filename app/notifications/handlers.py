"""Notifications the outbox asks for. Each row is handled on its own, so a
retried failure never sends another row's mail twice."""
from __future__ import annotations

import sqlalchemy as sa

from app.catalog.models import Product, Variant
from app.effects import handler
from app.extensions import db
from app.inventory.events import STOCK_LOW
from app.notifications.service import send_email
from tenants.context import require_store
from tenants.models import Account, Membership


@handler(STOCK_LOW, queue="notifications", batch=False)
def low_stock_alert(payloads: list[dict]) -> None:
    """Tell the store's owner and admins that a variant ran low."""
    store = require_store()
    for payload in payloads:
        variant = db.session.get(Variant, (store.id, int(payload["variant_id"])))
        recipients = list(db.session.scalars(
            sa.select(Account.email).join(Membership).where(Membership.store_id == store.id,
                                                            Membership.role.in_(("owner", "admin")))))
        if variant is None or not recipients:
            continue
        product = db.session.get(Product, (store.id, variant.product_id))
        name = product.title + ("" if variant.title == "Default" else f" — {variant.title}")
        body = (f"{name} (SKU {variant.sku or 'none'}) is down to {payload['available']} available, at or below "
                f"your threshold of {variant.low_stock_threshold}.\n\nRestock it from the Inventory page of "
                "your Vitrine dashboard.\n")
        send_email(recipients, f"[{store.name}] Low stock: {name}", body)
