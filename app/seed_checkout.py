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
    return seed_pricing() + seed_webhooks() + seed_failed_job() + seed_orders()


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


DEMO_ADDRESS = {"name": "Robin Demo", "line1": "500 Howard St", "line2": "", "city": "San Francisco",
                "region": "CA", "postal_code": "94105", "country": "US", "phone": ""}
# What happens to each demo order after checkout (manual payments: the seed needs no PSP).
ORDER_STORIES = ["awaiting payment", "paid", "shipped", "delivered", "partly refunded", "cancelled", "paid, noted",
                 "shipped"]


def seed_orders() -> list[str]:
    """Orders placed through the real checkout (bank transfer), spread over the last weeks, each taken
    through the lifecycle to a different state, so the Orders pages and the home chart have something."""
    from app.cart import service as carts
    from app.cart.storage import Owner, new_guest_ident
    from app.checkout import pricing, saga
    from app.orders import lifecycle
    from app.orders.models import Order

    if db.session.scalar(sa.select(sa.func.count(Order.id))):
        return []
    store = require_store()
    variants = _plain_variants(len(ORDER_STORIES) + 1)
    if not variants:
        return []
    placed = []
    for n, story in enumerate(ORDER_STORIES):
        owner = Owner.guest(store.id, new_guest_ident())
        carts.add(owner, variants[n % len(variants)], 1 + n % 2)
        cart = carts.view(owner, store.currency)
        options = pricing.shipping_options(cart, DEMO_ADDRESS)
        if not options:
            return []
        submission = saga.Submission(f"buyer{n + 1}@vitrine.test", DEMO_ADDRESS, None, options[0].id, None,
                                     "manual", None)
        answer = saga.checkout(owner, None, submission, f"demo-order-{n}", client_ip="127.0.0.1")
        if answer.status != 201:
            continue
        order_id = db.session.scalar(sa.select(Order.id).where(Order.token == answer.body["order"]["token"]))
        _tell(order_id, story, lifecycle)
        _backdate(order_id, days=3 * (len(ORDER_STORIES) - n))
        placed.append(story)
    return [f"{len(placed)} orders placed through the checkout and taken to: {', '.join(placed)}"]


def _tell(order_id: int, story: str, lifecycle) -> None:
    from app.orders.models import Order

    if story == "awaiting payment":
        return
    if story == "cancelled":
        lifecycle.cancel(order_id, actor=ACTOR, restock=True, reason="Customer changed their mind")
        return
    lifecycle.mark_paid(order_id, actor=ACTOR)
    if story.startswith("paid"):
        if "noted" in story:
            lifecycle.add_note(order_id, "Gift: wrap it and leave out the receipt.", actor=ACTOR)
        return
    lifecycle.fulfil(order_id, None, carrier="UPS", tracking_number=f"1Z999AA1{order_id:010d}",
                     tracking_url="https://www.ups.com/track", actor=ACTOR, notify=False)
    if story == "delivered":
        lifecycle.mark_delivered(order_id, actor=ACTOR)
    if story == "partly refunded":
        total = db.session.scalar(sa.select(Order.total).where(Order.id == order_id))
        lifecycle.refund(order_id, total // 4, reason="Damaged in transit", key=f"demo-refund-{order_id}",
                         actor=ACTOR)


def _backdate(order_id: int, *, days: int) -> None:
    from app.orders.models import Order, OrderEvent

    shift = timedelta(days=days)
    db.session.execute(sa.update(Order).where(Order.id == order_id).values(
        created_at=Order.created_at - shift, confirmed_at=Order.confirmed_at - shift))
    db.session.execute(sa.update(OrderEvent).where(OrderEvent.order_id == order_id)
                       .values(created_at=OrderEvent.created_at - shift))
    db.session.commit()


def _plain_variants(limit: int) -> list[int]:
    """Variants in stock, of active products behind no launch and not on flash sale."""
    from app.catalog.models import Product, Variant
    from app.inventory.models import InventoryLevel
    from app.launches.models import Launch

    return list(db.session.scalars(
        sa.select(Variant.id)
        .join(Product, sa.and_(Product.store_id == Variant.store_id, Product.id == Variant.product_id))
        .where(Product.status == "active", Variant.track_inventory, ~Variant.flash_sale,
               ~sa.exists().where(Launch.product_id == Product.id),
               sa.exists().where(InventoryLevel.variant_id == Variant.id,
                                 InventoryLevel.on_hand - InventoryLevel.reserved >= 3))
        .order_by(Variant.id).limit(limit)))
