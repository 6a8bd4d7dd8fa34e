"""The demo merchant and stores, shown by `make run`. Safe to run again."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from app.extensions import db
from app.inventory import service as inventory
from app.platform.models import Invitation
from app.platform.accounts import create_account
from app.store import service as store_service
from app.search import service as search
from app.catalog import imports
from app.catalog.models import ImportJob
from app.extensions import RedisUnavailable
from app.seed_catalog import COFFEE, DEMO_IMPORT, DEMO_IMPORT_NAME, OUTFITTERS, seed_catalog
from app.seed_storefront import seed_storefront
from app.store.models import ActivityEvent
from tenants.context import store_context
from tenants.models import Account, Domain, Membership, Store
from tenants.provisioning import create_store, placement_of

DEMO_PASSWORD = "window-shopping-2026"
ACCOUNTS = [
    ("demo@vitrine.test", "Dana Demo"),
    ("sam@vitrine.test", "Sam Rivera"),
]
STORES = [
    {"handle": "demo", "catalog": "outfitters", "name": "Demo Outfitters", "currency": "USD", "tier": "pooled",
     "locale": "en_US", "domains": ["www.demo-outfitters.test"], "staff": [("sam@vitrine.test", "staff")],
     # waiting for its DNS record (the Domains page shows what to add), and an invitation not yet accepted
     "pending_domain": "shop.demo-outfitters.example.com", "invitation": ("new.hire@demo-outfitters.test", "staff"),
     "settings": {"contact_email": "hello@demo-outfitters.test",
                  "coming_soon_message": "Trail-tested outdoor gear is on its way. Our spring collection opens soon."}},
    {"handle": "northwind", "catalog": "coffee", "name": "Northwind Coffee Roasters", "currency": "EUR", "tier": "dedicated",
     "locale": "de_DE", "domains": ["shop.northwind-coffee.test"], "staff": [("sam@vitrine.test", "admin")],
     "settings": {"contact_email": "beans@northwind-coffee.test",
                  "coming_soon_message": "Small-batch roasts, shipped the day they are roasted. Opening soon."}},
]
HISTORY = [
    ("demo@vitrine.test", "store.created", "Created the store"),
    ("demo@vitrine.test", "domain.added", "Connected {domain}"),
    ("demo@vitrine.test", "staff.added", "Added sam@vitrine.test"),
]


def seed() -> list[str]:
    log = []
    accounts = {email: _account(email, name, log) for email, name in ACCOUNTS}
    owner = accounts["demo@vitrine.test"]
    for spec in STORES:
        store = db.session.scalar(sa.select(Store).where(Store.handle == spec["handle"]))
        if store is None:
            store = create_store(handle=spec["handle"], name=spec["name"], currency=spec["currency"],
                                 owner=owner, tier=spec["tier"])
            log.append(f"created store {store.handle} ({store.tier})")
        store.locale = spec["locale"]  # amounts as its merchants write them (1.234,50 € at Northwind)
        for hostname in spec["domains"]:
            _demo_domain(hostname, store.id)
        if spec.get("pending_domain") and db.session.scalar(
                sa.select(Domain.id).where(Domain.hostname == spec["pending_domain"])) is None:
            db.session.add(Domain(hostname=spec["pending_domain"], store_id=store.id))
        if spec.get("invitation"):
            _demo_invitation(store.id, owner.id, *spec["invitation"])
        for email, role in spec["staff"]:
            if db.session.get(Membership, (accounts[email].id, store.id)) is None:
                db.session.add(Membership(account_id=accounts[email].id, store_id=store.id, role=role))
        db.session.commit()
        with store_context(placement_of(store)):
            if db.session.scalar(sa.select(sa.func.count(ActivityEvent.id))) == 0:
                for actor, verb, summary in HISTORY:
                    store_service.record(actor, verb, summary.format(domain=spec["domains"][0]))
                store_service.update_settings(spec["settings"], "demo@vitrine.test")
                log.append(f"seeded {store.handle}'s settings and timeline")
        with store_context(placement_of(store)):
            for line in seed_catalog(OUTFITTERS if spec["catalog"] == "outfitters" else COFFEE):
                log.append(f"seeded {store.handle}'s catalog: {line}")
            # The catalog's first location (Main warehouse) is the demo's default one; a demo
            # left without any location gets the default every new store starts with.
            if inventory.ensure_default_location():
                log.append(f"gave {store.handle} its default location, {inventory.DEFAULT_LOCATION}")
            for line in seed_storefront(spec["catalog"]):
                log.append(f"seeded {store.handle}'s shop: {line}")
            search.rebuild()  # the demo's search works before any worker runs
            if spec["catalog"] == "outfitters":
                log.extend(_demo_import(store.handle))
    from tenants.extension import state

    state().resolver.invalidate()
    log.append(f"demo login: demo@vitrine.test / {DEMO_PASSWORD}")
    return log


def _demo_import(handle: str) -> list[str]:
    """Once: a supplier's file queued for the worker, so the Import page has one to show."""
    if db.session.scalar(sa.select(sa.func.count(ImportJob.id))):
        return []
    try:
        imports.start_import(DEMO_IMPORT_NAME, DEMO_IMPORT.encode(), "demo@vitrine.test")
    except RedisUnavailable:
        return [f"left out {handle}'s demo import: Redis is unreachable (seed again once it is back)"]
    return [f"queued {handle}'s demo import ({DEMO_IMPORT_NAME})"]


def _demo_domain(hostname: str, store_id: int) -> None:
    """.test names have no DNS to prove them: the demo takes them as verified,
    again at every seeding (the periodic recheck would take them offline)."""
    domain = db.session.scalar(sa.select(Domain).where(Domain.hostname == hostname))
    if domain is None:
        domain = Domain(hostname=hostname, store_id=store_id)
        db.session.add(domain)
    domain.status, domain.failed_checks, domain.last_error = "verified", 0, ""
    domain.verified_at = domain.verified_at or sa.func.now()


def _demo_invitation(store_id: int, inviter_id: int, email: str, role: str) -> None:
    """Pending, so the Staff page shows one (its link is minted when it is (re)sent)."""
    if db.session.scalar(sa.select(Invitation.id).where(Invitation.store_id == store_id, Invitation.email == email)):
        return
    db.session.add(Invitation(store_id=store_id, email=email, role=role, invited_by=inviter_id,
                              expires_at=datetime.now(timezone.utc) + timedelta(days=7)))


def _account(email: str, name: str, log: list[str]) -> Account:
    account = db.session.scalar(sa.select(Account).where(Account.email == email))
    if account is None:
        account = create_account(email=email, name=name, password=DEMO_PASSWORD)
        log.append(f"created account {email}")
    return account
