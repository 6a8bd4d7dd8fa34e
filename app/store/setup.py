"""A new store's first steps: what it starts with, and the setup checklist
on the dashboard home, computed from the store's data every time (so it
ticks itself as the store grows, and unticks if a domain goes offline).

Runs inside a store context (tenants.context).
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from app.catalog.models import Product
from app.checkout.models import ShippingRate
from app.extensions import db
from app.inventory import service as inventory
from app.inventory.models import InventoryLevel
from app.pages.service import add_starter_pages
from app.store import service as store_service
from app.theming.models import StoreTheme
from tenants.models import Domain
from tenants.context import require_store

# What "Hosting" means on the dashboard, in the merchant's words (placement tiers in DESIGN.md).
HOSTING = {
    "pooled": ("Shared", "Your store shares a database with other small stores; its data is still walled off "
                         "from theirs, and it can move to dedicated hosting without going offline."),
    "dedicated": ("Dedicated", "Your store has a database schema of its own, for large stores: its data and "
                               "its load are kept apart from every other store's."),
}


@dataclass(frozen=True)
class Step:
    title: str
    done: bool
    endpoint: str | None  # where it is done in the dashboard; None: not built yet ("coming soon")
    hint: str


def open_store(store_name: str, actor: str) -> None:
    """What every new store starts with: its timeline entry, a default
    location (so the stock form works at once) and the pages every shop needs
    (about, contact, policies: published, saying what to write), in one
    transaction. Run once per store; the location and pages alone would not
    be made twice (ensure_default_location, add_starter_pages)."""
    inventory.ensure_default_location(commit=False)
    add_starter_pages(commit=False)
    store_service.record(actor, "store.created", f"Created the store “{store_name}”")
    db.session.commit()


def hosting(tier: str) -> tuple[str, str]:
    """("Shared" or "Dedicated", one sentence of what that means) for a store's tier."""
    return HOSTING["dedicated" if tier == "dedicated" else "pooled"]


def checklist() -> list[Step]:
    """The steps from an empty store to one that sells, each ticked from real data."""
    # Existence reads only: the catalog and inventory services have no "any at all?" query to offer.
    has_product = db.session.scalar(sa.select(sa.exists(sa.select(Product.id))))
    has_stock = db.session.scalar(sa.select(sa.exists(sa.select(InventoryLevel.id).where(InventoryLevel.on_hand > 0))))
    has_theme = db.session.scalar(sa.select(sa.exists(sa.select(StoreTheme.id).where(StoreTheme.live))))
    has_shipping = db.session.scalar(sa.select(sa.exists(sa.select(ShippingRate.id))))
    has_domain = db.session.scalar(sa.select(sa.exists(sa.select(Domain.id).where(
        Domain.store_id == require_store().id, Domain.status == "verified"))))
    return [
        Step("Add a product", bool(has_product), "admin.new_product", "Title, price and a picture are enough to start."),
        Step("Set stock", bool(has_stock), "admin.inventory_page", "Count what you have on hand at your location."),
        Step("Choose a theme", bool(has_theme), "admin.themes",
             "Pick a theme, make it yours in the customizer and publish it: until then shoppers see "
             "a “coming soon” page."),
        Step("Connect a domain", bool(has_domain), "admin.domains",
             "Use an address of your own, such as shop.example.com."),
        Step("Set up shipping", bool(has_shipping), "admin.shipping_zones",
             "Say where you ship and what it costs: checkout offers your rates, and card payments are ready."),
    ]
