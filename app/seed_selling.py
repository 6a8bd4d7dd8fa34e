"""The demo stores' selling side: a flash-sale variant, carts holding stock
(so a product's Stock section lists reservations), the demo shopper's cart,
and two launches (a waiting room opening tomorrow, a draw taking entries).
Each part is made once per store; seeding again changes nothing."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.catalog.models import Product, Variant
from app.extensions import db

ACTOR = "demo@vitrine.test"
DEMO_CARTS = 3


def seed_selling(shopper_email: str) -> list[str]:
    return seed_launches() + seed_flash_sale() + seed_holds() + seed_shopper_cart(shopper_email)


def _stocked_variants(limit: int) -> list[int]:
    """Variants of active products with stock, oldest products first (the launches take the newest)."""
    from app.inventory.models import InventoryLevel

    return list(db.session.scalars(
        sa.select(Variant.id)
        .join(Product, sa.and_(Product.store_id == Variant.store_id, Product.id == Variant.product_id))
        .where(Product.status == "active", Variant.track_inventory,
               sa.exists().where(InventoryLevel.variant_id == Variant.id,
                                 InventoryLevel.on_hand > InventoryLevel.reserved))
        .order_by(Product.id, Variant.position).limit(limit)))


def seed_flash_sale() -> list[str]:
    if db.session.scalar(sa.select(sa.func.count()).where(Variant.flash_sale)):
        return []
    found = _stocked_variants(4)
    if not found:
        return []
    db.session.execute(sa.update(Variant).where(Variant.id == found[-1]).values(flash_sale=True))
    db.session.commit()
    return ["one variant marked for a flash sale (its add-to-carts pass the Redis gate)"]


def seed_holds() -> list[str]:
    """A few carts holding stock for a day, so the dashboard shows reservations."""
    from app.inventory import reservations
    from app.inventory.models import Reservation

    if db.session.scalar(sa.select(sa.func.count(Reservation.id)).where(Reservation.holder.like("cart:demo%"))):
        return []
    variant_ids = _stocked_variants(DEMO_CARTS)
    held = sum(reservations.hold_up_to(f"cart:demo{n:02d}", variant_id, n + 1,
                                       minutes=reservations.MAX_MINUTES).quantity
               for n, variant_id in enumerate(variant_ids))
    return [f"{held} units held in {len(variant_ids)} demo carts for a day"] if held else []


def seed_shopper_cart(email: str) -> list[str]:
    """The demo shopper's cart: two items, waiting for them on any device."""
    from app.cart import service as carts
    from app.cart.storage import Owner
    from app.customers import service as customers
    from tenants.context import require_store

    shopper = customers.by_email(email)
    if shopper is None:
        return []
    owner = Owner.customer(require_store().id, shopper.id)
    if carts.item_count(owner):
        return []
    added = 0
    for variant_id in _stocked_variants(2):
        try:
            added += carts.add(owner, variant_id, 1).quantity
        except carts.CartError:
            continue  # sold out or behind a launch: the demo goes on without it
    return [f"{added} items in {email}'s cart"] if added else []


def seed_launches() -> list[str]:
    """A waiting room opening tomorrow and a draw taking entries, with a few entrants."""
    from app.customers.models import Customer
    from app.launches import draw, service as launches
    from app.launches.models import Launch

    if db.session.scalar(sa.select(sa.func.count(Launch.id))):
        return []
    newest = list(db.session.scalars(sa.select(Product).where(Product.status == "active")
                                     .order_by(Product.id.desc()).limit(2)))
    if len(newest) < 2:
        return []
    now, shape = launches.utcnow(), "%Y-%m-%dT%H:%M"
    launches.create_launch({"kind": "queue", "product_id": str(newest[0].id), "rate_per_minute": "30",
                            "pass_minutes": "10", "starts_at": (now + timedelta(days=1)).strftime(shape)}, actor=ACTOR)
    drop = launches.create_launch({"kind": "draw", "product_id": str(newest[1].id), "winners": "2",
                                   "pass_minutes": "60", "starts_at": now.strftime(shape),
                                   "entry_ends_at": (now + timedelta(days=2)).strftime(shape)}, actor=ACTOR)
    entrants = [Customer(email=f"entrant{n}@vitrine.test", name=f"Entrant {n}", password_hash="!")
                for n in range(1, 6)]  # accounts without a password: they only hold entries
    db.session.add_all(entrants)
    db.session.commit()
    info = launches.live_launch(drop.id)
    for customer in entrants:
        draw.enter(info, customer.id, now)
    return [f"a waiting room for {newest[0].title} opening tomorrow, and a draw for {newest[1].title} "
            f"with {len(entrants)} entries (entries close in two days)"]
