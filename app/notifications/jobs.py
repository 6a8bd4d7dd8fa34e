"""Notification jobs. Each is idempotent: a retried job sends nothing twice."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db, get_redis
from app.jobs import job
from app.notifications.service import send_email
from tenants.context import store_context
from tenants.models import Account, Membership, Store
from tenants.provisioning import placement_of


@job
def low_stock_alert(store_id: int, variant_id: int, available: int) -> bool:
    """Tell the store's owner and admins that a variant ran low."""
    from app.catalog.models import Product, Variant

    once = f"vitrine:store:{store_id}:low-stock:{variant_id}:{available}"
    if not get_redis().set(once, "1", nx=True, ex=3600):
        return False
    store = db.session.get(Store, store_id)
    if store is None:
        return False
    recipients = list(db.session.scalars(
        sa.select(Account.email).join(Membership).where(Membership.store_id == store_id,
                                                        Membership.role.in_(("owner", "admin")))))
    with store_context(placement_of(store), writable=False):
        variant = db.session.get(Variant, (store_id, variant_id))
        if variant is None or not recipients:
            return False
        product = db.session.get(Product, (store_id, variant.product_id))
        name = product.title + ("" if variant.title == "Default" else f" — {variant.title}")
        body = (f"{name} (SKU {variant.sku or 'none'}) is down to {available} available, at or below your "
                f"threshold of {variant.low_stock_threshold}.\n\nRestock it from the Inventory page of your "
                "Vitrine dashboard.\n")
    send_email(recipients, f"[{store.name}] Low stock: {name}", body)
    return True
