"""The demo stores' checkout side: shipping zones and rates, tax rates,
discount codes, a merchant webhook with a delivery log, a failed job to
retry, and orders in the states an order goes through. Each part is made
once per store; seeding again changes nothing."""
from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.money import format_input
from tenants.context import require_store

ACTOR = "demo@vitrine.test"
# Places are ISO codes; amounts are in the store's currency (USD for Demo Outfitters, EUR for Northwind).
# Amounts in minor units, typed into the forms the way the store's locale writes them.
ZONES = [
    ("Domestic", "US", [("Standard", "flat", 490, 6000), ("Express", "weight", None, None)]),
    ("US West (express hub)", "US-CA US-OR US-WA", [("Express West", "flat", 1200, None)]),
    ("Europe", "FR DE BE NL IT ES PT AT IE LU", [("Standard EU", "flat", 990, 12000)]),
    ("Rest of world", "", [("Worldwide", "flat", 2900, None)]),
]
EXPRESS_BRACKETS = [("0", "1000", 990), ("1000", "5000", 1490), ("5000", "", 2490)]
TAXES = [("FR", "TVA", "20"), ("DE", "MwSt", "19"), ("IT", "IVA", "22"), ("CA", "GST", "5"), ("CA-BC", "PST", "7"),
         ("US-NY", "NY sales tax", "8.88"), ("US-CA", "CA sales tax", "7.25")]
CODES = [
    {"code": "WELCOME10", "kind": "percentage", "value": "10", "per_customer_limit": "1"},
    {"code": "FREESHIP", "kind": "free_shipping", "minimum_subtotal": 4000},
    {"code": "TENOFF", "kind": "fixed", "value": 1000, "usage_limit": "100"},
    {"code": "LAUNCH50", "kind": "percentage", "value": "50", "usage_limit": "10"},
    {"code": "OLDCODE", "kind": "percentage", "value": "20", "inactive": True},
]


def seed_checkout() -> list[str]:
    return seed_pricing() + seed_webhooks() + seed_failed_job()


def seed_pricing() -> list[str]:
    from app.checkout import discounts, shipping, taxes
    from app.checkout.models import ShippingZone

    if db.session.scalar(sa.select(sa.func.count(ShippingZone.id))):
        return []
    store = require_store()
    typed = lambda minor: format_input(minor, store.currency, store.locale)  # noqa: E731
    for name, places, rates in ZONES:
        zone = shipping.create_zone(MultiDict({"name": name, "places": places,
                                               **({"rest_of_world": "on"} if not places else {})}), actor=ACTOR)
        for rate_name, kind, price, free_above in rates:
            form = MultiDict({"name": rate_name, "kind": kind})
            if kind == "flat":
                form["price"] = typed(price)
            else:
                for low, high, bracket_price in EXPRESS_BRACKETS:
                    form.add("bracket_min", low)
                    form.add("bracket_max", high)
                    form.add("bracket_price", typed(bracket_price))
            if free_above:
                form["free_above"] = typed(free_above)
            shipping.create_rate(zone.id, form, actor=ACTOR)
    for place, name, rate in TAXES:
        taxes.create_rate(MultiDict({"place": place, "name": name, "rate": rate}), actor=ACTOR)
    for spec in CODES:
        amounts = ("minimum_subtotal",) + (("value",) if spec["kind"] == "fixed" else ())
        form = MultiDict({key: typed(value) if key in amounts else value for key, value in spec.items()
                          if key != "inactive"})
        if not spec.get("inactive"):
            form["active"] = "on"
        code = discounts.create(form, actor=ACTOR)
        if code.code == "LAUNCH50":  # used up, so the list shows what that looks like
            for n in range(10):
                discounts.redeem(code.id, f"email:early{n}@vitrine.test", f"demo-launch-{n}")
            db.session.commit()
    return [f"{len(ZONES)} shipping zones, {len(TAXES)} tax rates and {len(CODES)} discount codes "
            "(WELCOME10, FREESHIP, TENOFF; LAUNCH50 used up; OLDCODE inactive)"]


def seed_webhooks() -> list[str]:
    """An endpoint nothing listens on (so the demo worker never retries it) with a delivered and a failed
    delivery in its log."""
    from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

    if db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))):
        return []
    endpoint = WebhookEndpoint(url="http://127.0.0.1:9/demo-hooks", topics=["orders/create", "orders/paid"],
                               secret=secrets.token_hex(24), status="active", created_by=ACTOR)
    db.session.add(endpoint)
    db.session.flush()
    now = datetime.now(timezone.utc)
    for topic, status, code, error in (("orders/create", "delivered", 200, None),
                                       ("orders/paid", "failed", 503, "503 Service Unavailable")):
        delivery = WebhookDelivery(endpoint_id=endpoint.id, webhook_id=str(uuid.uuid4()), topic=topic,
                                   payload={"order": {"name": "#1001", "demo": True}}, status=status,
                                   attempts=1 if status == "delivered" else 19, last_attempt_at=now,
                                   last_status_code=code, last_error=error,
                                   delivered_at=now if status == "delivered" else None)
        db.session.add(delivery)
        db.session.flush()
        db.session.add(WebhookAttempt(delivery_id=delivery.id, status_code=code, error=error,
                                      duration_ms=42 if code == 200 else 5000,
                                      response_snippet="ok" if code == 200 else ""))
    db.session.commit()
    return ["a merchant webhook endpoint with a delivered and a failed delivery (Dashboard → Webhooks)"]


def seed_failed_job() -> list[str]:
    from app.catalog.models import Variant
    from app.effects import dispatch
    from app.effects.models import Outbox
    from app.inventory.events import STOCK_LOW

    if db.session.scalar(sa.select(sa.func.count(Outbox.id)).where(Outbox.attempts >= dispatch.max_attempts())):
        return []
    variant_id = db.session.scalar(sa.select(Variant.id).order_by(Variant.id).limit(1))
    if variant_id is None:
        return []
    failed_at = datetime.now(timezone.utc) - timedelta(hours=1)
    db.session.add(Outbox(topic=STOCK_LOW, payload={"variant_id": variant_id, "available": 2},
                          attempts=dispatch.max_attempts(), last_attempt_at=failed_at,
                          last_error="SMTPDataError: (554, b'Message refused by the demo mail server')"))
    db.session.commit()
    return ["a low-stock mail that kept failing, waiting in Dashboard → Failed jobs"]
