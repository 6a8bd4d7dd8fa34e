"""Fraud rules: each checkout is scored before its card is asked.

`facts_for` reads what the store knows (recent orders by the same customer,
email, client IP or card; the buyer's order history; the addresses; the
store's fraud settings) and `assess` turns those facts into a score from 0
to 100, purely, with the reasons a merchant can read. At or above the
store's `fraud_decline_score` the checkout is refused (nothing is charged);
at or above `fraud_review_score` the order is placed but held for review:
it is not captured until a merchant approves it (or rejects it, which
cancels it).

Weights (points, added up, at most 100):
  VELOCITY_HOUR    40  the customer, email, client IP or card placed
                       fraud_max_orders_per_hour orders or more in the last hour
  VELOCITY_DAY     20  ... or 3x that many in the last day
  DECLINES         25  3 or more declined payments by the same buyer/IP/card in the last hour (card testing)
  CARD_EMAILS      25  the card was used with 3 or more other emails in the last day
  HIGH_RISK        35  shipping to a country on the store's high-risk list
  MISMATCH         15  billing and shipping countries differ
  LARGE_ORDER      25  more than 5x the buyer's average confirmed order (same currency)
  LARGE_FIRST      20  a first order above FIRST_ORDER_LIMIT major units (500.00 in a 2-decimal currency)
With the defaults (review 50, decline 80): a high-risk country with a
billing mismatch is reviewed; a burst of orders with declines is refused.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from app import parse
from app.checkout.models import countries
from app.extensions import db
from app.money import precision
from app.orders import lifecycle
from app.orders.models import Order, OrderEvent
from app.orders.service import Draft, OrderError, OrderErrorCode
from app.payments.models import Payment
from app.store import service as store_service


VELOCITY_HOUR, VELOCITY_DAY, DECLINES, CARD_EMAILS = 40, 20, 25, 25
HIGH_RISK, MISMATCH, LARGE_ORDER, LARGE_FIRST = 35, 15, 25, 20
DAY_FACTOR = 3  # the daily limit is this many hours' worth
DECLINE_LIMIT = 3  # declined payments in an hour that look like card testing
CARD_EMAIL_LIMIT = 3  # other emails one card may be used with in a day
LARGE_FACTOR = 5  # an order this many times the buyer's average is unusual
FIRST_ORDER_LIMIT = 500  # major units (500.00 USD, 500 JPY is a lot less: per-currency limits are a TODO)
HISTORY_ORDERS = 50  # the buyer's most recent confirmed orders the average is taken over
LEVELS = ("approve", "review", "decline")
CONFIRMED = ("confirmed", "partially_fulfilled", "fulfilled", "delivered")
REFUSAL = "We could not accept this order. You have not been charged."
MAX_COUNTRIES = 250
SETTINGS = ("fraud_review_score", "fraud_decline_score", "fraud_high_risk_countries", "fraud_max_orders_per_hour")
IDENTITIES = ("customer", "email", "IP address", "card")


@dataclass(frozen=True)
class RiskFacts:
    """What the rules look at; every count leaves out the order being assessed."""

    total: int  # minor units of `currency`
    currency: str
    orders_last_hour: Mapping[str, int] = field(default_factory=dict)  # identity -> orders
    orders_last_day: Mapping[str, int] = field(default_factory=dict)
    declines_last_hour: int = 0
    card_emails_last_day: int = 0  # other emails the card was used with
    history_orders: int = 0  # the buyer's confirmed orders in this currency
    history_average: int = 0
    shipping_country: str | None = None
    billing_country: str | None = None
    high_risk_countries: frozenset[str] = frozenset()
    max_orders_per_hour: int = 5
    review_score: int = 50
    decline_score: int = 80


@dataclass(frozen=True)
class Assessment:
    score: int
    level: str  # approve | review | decline
    reasons: list[str]

    def as_json(self) -> dict:
        return {"score": self.score, "level": self.level, "reasons": list(self.reasons)}


# -- the rules (pure) ------------------------------------------------------------------------------------------------

def assess(facts: RiskFacts) -> Assessment:
    points: list[tuple[int, str]] = []
    points += _velocity(facts)
    if facts.declines_last_hour >= DECLINE_LIMIT:
        points.append((DECLINES, f"{facts.declines_last_hour} declined payments by this buyer in the last hour"))
    if facts.card_emails_last_day >= CARD_EMAIL_LIMIT:
        points.append((CARD_EMAILS, f"The card was used with {facts.card_emails_last_day} other emails today"))
    shipping, billing = facts.shipping_country, facts.billing_country
    if shipping and shipping in facts.high_risk_countries:
        points.append((HIGH_RISK, f"Ships to {shipping}, on the store's high-risk list"))
    if shipping and billing and shipping != billing:
        points.append((MISMATCH, f"Billing country {billing} differs from shipping country {shipping}"))
    points += _value(facts)
    score = min(100, sum(weight for weight, _ in points))
    level = ("decline" if score >= facts.decline_score else "review" if score >= facts.review_score
             else "approve")
    return Assessment(score, level, [reason for _, reason in points])


def _velocity(facts: RiskFacts) -> list[tuple[int, str]]:
    """One rule for the busiest identity: four signals of one burst are not four times the risk."""
    limit = facts.max_orders_per_hour
    hour = max(facts.orders_last_hour.items(), key=lambda pair: pair[1], default=("", 0))
    if hour[1] >= limit:
        return [(VELOCITY_HOUR, f"{hour[1]} orders from the same {hour[0]} in the last hour")]
    day = max(facts.orders_last_day.items(), key=lambda pair: pair[1], default=("", 0))
    if day[1] >= limit * DAY_FACTOR:
        return [(VELOCITY_DAY, f"{day[1]} orders from the same {day[0]} in the last day")]
    return []


def _value(facts: RiskFacts) -> list[tuple[int, str]]:
    if facts.history_orders and facts.total > LARGE_FACTOR * facts.history_average:
        return [(LARGE_ORDER, f"{LARGE_FACTOR}× above the buyer's average order")]
    limit = FIRST_ORDER_LIMIT * 10 ** precision(facts.currency)
    if not facts.history_orders and facts.total > limit:
        return [(LARGE_FIRST, f"A first order above {FIRST_ORDER_LIMIT:,} {facts.currency}")]
    return []


# -- the facts (read from the store's rows) --------------------------------------------------------------------------

def facts_for(draft: Draft, order_token: str | None = None, card_fingerprint: str | None = None) -> RiskFacts:
    """The facts about the checkout `draft`, read in one query (the checkout's
    hot path); its order `order_token`, if already made, is left out."""
    settings = risk_settings()
    now = datetime.now(timezone.utc)
    hour, day = now - timedelta(hours=1), now - timedelta(days=1)
    identities = _identities(draft, card_fingerprint)
    counted = {f"{when}:{name}": sa.func.count().filter(test, Order.created_at >= since)
               for name, test in identities.items() for when, since in (("hour", hour), ("day", day))}
    counted["declines"] = sa.func.count().filter(sa.or_(*identities.values()), Order.created_at >= hour,
                                                 Order.status == "payment_failed")
    others = [Order.token != order_token] if order_token else []
    recent = (sa.select(*(value.label(key) for key, value in counted.items()))
              .where(Order.created_at >= day, *others).subquery())
    history = _history(draft, others)
    row = db.session.execute(sa.select(
        recent, _card_emails(card_fingerprint, draft.email, others, day).label("card_emails"),
        sa.select(sa.func.count()).select_from(history).scalar_subquery().label("history_count"),
        sa.select(sa.func.avg(history.c.total)).scalar_subquery().label("history_average"))).one()._mapping
    return RiskFacts(
        total=draft.total, currency=draft.currency,
        orders_last_hour={name: row[f"hour:{name}"] for name in identities},
        orders_last_day={name: row[f"day:{name}"] for name in identities},
        declines_last_hour=row["declines"], card_emails_last_day=row["card_emails"] or 0,
        history_orders=row["history_count"] or 0, history_average=int(row["history_average"] or 0),
        shipping_country=_country(draft.shipping_address), billing_country=_country(draft.billing_address),
        high_risk_countries=frozenset(settings["fraud_high_risk_countries"]),
        max_orders_per_hour=settings["fraud_max_orders_per_hour"], review_score=settings["fraud_review_score"],
        decline_score=settings["fraud_decline_score"])


def _identities(draft: Draft, card_fingerprint: str | None) -> dict[str, sa.ColumnElement]:
    tests = {"email": sa.func.lower(Order.email) == draft.email.lower()}
    if draft.customer_id is not None:
        tests["customer"] = Order.customer_id == draft.customer_id
    if draft.client_ip:
        tests["IP address"] = Order.client_ip == draft.client_ip
    if card_fingerprint:
        tests["card"] = Order.id.in_(sa.select(Payment.order_id).where(Payment.card_fingerprint == card_fingerprint))
    return tests


def _card_emails(card_fingerprint: str | None, email: str, others: list, since: datetime):
    """The other emails the card was used with since `since` (a scalar subquery)."""
    if not card_fingerprint:
        return sa.literal(0)
    return (sa.select(sa.func.count(sa.distinct(sa.func.lower(Order.email)))).select_from(Order)
            .join(Payment, Payment.order_id == Order.id)
            .where(Payment.card_fingerprint == card_fingerprint, Order.created_at >= since,
                   sa.func.lower(Order.email) != email.lower(), *others).scalar_subquery())


def _history(draft: Draft, others: list):
    """The totals of the buyer's last confirmed orders in this currency: by customer, else email."""
    buyer = (Order.customer_id == draft.customer_id if draft.customer_id is not None
             else sa.func.lower(Order.email) == draft.email.lower())
    return (sa.select(Order.total).where(buyer, Order.currency == draft.currency, Order.status.in_(CONFIRMED),
                                         *others)
            .order_by(Order.created_at.desc()).limit(HISTORY_ORDERS).subquery())


def _country(address: dict | None) -> str | None:
    country = (address or {}).get("country")
    return country.strip().upper() or None if isinstance(country, str) else None


# -- recording and review --------------------------------------------------------------------------------------------

def record(order: Order, assessment: Assessment, *, actor: str = "checkout") -> None:
    """Keep the assessment on the order, in the caller's transaction; a held or
    refused order gets a timeline entry saying why."""
    order.risk = assessment.as_json()
    if assessment.level != "approve":
        verb = "Held for review" if assessment.level == "review" else "Refused"
        _event(order, f"risk_{assessment.level}", f"{verb} by the fraud rules (score {assessment.score}): "
               + "; ".join(assessment.reasons), actor)


def needs_review(order: Order) -> bool:
    """Held by the fraud rules and not yet approved or rejected: do not capture it."""
    return order.held_for_review


def approve(order_id: int, actor: str) -> Order:
    """The merchant vouches for a held order: it may be captured and fulfilled."""
    order = _held(order_id)
    order.risk = {**order.risk, "review": "approved", "reviewed_by": actor, "reviewed_at": _now_text()}
    _event(order, "risk_approved", "Approved after review; the order may be fulfilled.", actor)
    lifecycle.capture_if_immediate(order.id)  # the store captures at once: what the hold held back
    db.session.commit()
    return order


def reject(order_id: int, actor: str) -> Order:
    """The merchant rejects a held order: it is cancelled (its authorization voided, its stock returned)."""
    order = _held(order_id)
    order.risk = {**order.risk, "review": "rejected", "reviewed_by": actor, "reviewed_at": _now_text()}
    _event(order, "risk_rejected", "Rejected after review.", actor)
    db.session.commit()
    lifecycle.cancel(order_id, actor=actor, reason="Rejected after fraud review")
    return order


def _held(order_id: int) -> Order:
    order = db.session.scalar(sa.select(Order).where(Order.id == order_id).with_for_update())
    if order is None:
        db.session.rollback()
        raise OrderError(OrderErrorCode.NOT_FOUND, "No such order.", status=404)
    if not needs_review(order):
        db.session.rollback()
        raise OrderError(OrderErrorCode.ILLEGAL, "This order is not waiting for review.", status=409)
    return order


def _event(order: Order, kind: str, message: str, actor: str) -> None:
    db.session.add(OrderEvent(order_id=order.id, kind=kind, message=message, actor=actor))


def _now_text() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- the store's settings --------------------------------------------------------------------------------------------

def risk_settings() -> dict:
    settings = store_service.get_settings()
    return {key: settings[key] for key in SETTINGS}


def parse_settings(form: Mapping) -> dict:
    """The fraud settings from the Settings form; BadInput (nothing saved) when one is not what it takes."""
    review = parse.whole_number(form.get("fraud_review_score"), field="fraud_review_score",
                                label="The review score", minimum=1, maximum=100,
                                default=store_service.DEFAULT_SETTINGS["fraud_review_score"])
    decline = parse.whole_number(form.get("fraud_decline_score"), field="fraud_decline_score",
                                 label="The decline score", minimum=1, maximum=100,
                                 default=store_service.DEFAULT_SETTINGS["fraud_decline_score"])
    if review > decline:
        raise parse.bad("The review score must not be above the decline score.", "fraud_review_score")
    hourly = parse.whole_number(form.get("fraud_max_orders_per_hour"), field="fraud_max_orders_per_hour",
                                label="The orders per hour", minimum=1, maximum=1000,
                                default=store_service.DEFAULT_SETTINGS["fraud_max_orders_per_hour"])
    return {"fraud_review_score": review, "fraud_decline_score": decline, "fraud_max_orders_per_hour": hourly,
            "fraud_high_risk_countries": parse_countries(form.get("fraud_high_risk_countries"))}


def parse_countries(raw) -> list[str]:
    """["NG", "RU"] from text such as "ng, RU"; each an ISO 3166-1 code, no repeats."""
    text = parse.text(raw, field="fraud_high_risk_countries", label="The high-risk countries",
                      max_length=4 * MAX_COUNTRIES, multiline=True)
    codes = [code for code in text.upper().replace(",", " ").replace(";", " ").split() if code]
    known = countries()
    for code in codes:
        if code not in known:
            raise parse.bad(f"“{code[:12]}” is not a country code (ISO 3166-1, such as FR).",
                            "fraud_high_risk_countries")
    return list(dict.fromkeys(codes))
