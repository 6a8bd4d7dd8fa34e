"""Fraud rules: the score of many sets of facts (pure), the facts read from real orders and payments, the
assessment kept on the order, review (approve / reject), and the store's fraud settings."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.orders import risk
from app.orders import service as orders
from app.orders.models import Order, OrderEvent
from app.orders.risk import Assessment, RiskFacts, assess
from app.orders.service import Draft, OrderError
from app.payments import service as payments
from app.store import service as store_service
from app.store.models import StoreSetting
from tests.conftest import as_store

ACTOR = "owner@example.com"
PLAIN = RiskFacts(total=4500, currency="USD", shipping_country="US", billing_country="US")


# -- assess (pure) ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, score, level", [
    ({}, 0, "approve"),
    ({"orders_last_hour": {"email": 4}}, 0, "approve"),  # under the limit of 5
    ({"orders_last_hour": {"email": 5}}, 40, "approve"),
    ({"orders_last_hour": {"email": 5, "IP address": 7, "card": 6}}, 40, "approve"),  # one burst counts once
    ({"orders_last_day": {"IP address": 15}}, 20, "approve"),
    ({"orders_last_day": {"IP address": 14}}, 0, "approve"),
    ({"orders_last_hour": {"customer": 1}, "max_orders_per_hour": 1}, 40, "approve"),
    ({"declines_last_hour": 3}, 25, "approve"),
    ({"declines_last_hour": 2}, 0, "approve"),
    ({"card_emails_last_day": 3}, 25, "approve"),
    ({"shipping_country": "NG", "billing_country": "NG", "high_risk_countries": frozenset({"NG"})}, 35, "approve"),
    ({"billing_country": "GB"}, 15, "approve"),
    ({"billing_country": None}, 0, "approve"),  # no billing address given: no mismatch
    ({"shipping_country": "NG", "billing_country": "GB", "high_risk_countries": frozenset({"NG"})}, 50, "review"),
    ({"history_orders": 3, "history_average": 800}, 25, "approve"),  # 4500 > 5 x 800
    ({"history_orders": 3, "history_average": 900}, 0, "approve"),  # 4500 = 5 x 900: not above
    ({"total": 50_001}, 20, "approve"),  # a first order above 500.00
    ({"total": 50_000}, 0, "approve"),
    ({"total": 50_001, "currency": "JPY"}, 20, "approve"),  # 500 yen: JPY has no minor unit
    ({"total": 499, "currency": "JPY"}, 0, "approve"),
    ({"total": 50_001, "history_orders": 1, "history_average": 40_000}, 0, "approve"),  # a known big buyer
    ({"orders_last_hour": {"email": 9}, "declines_last_hour": 4}, 65, "review"),
    ({"orders_last_hour": {"card": 9}, "declines_last_hour": 4, "card_emails_last_day": 5}, 90, "decline"),
    ({"orders_last_hour": {"card": 9}, "declines_last_hour": 4, "card_emails_last_day": 5, "billing_country": "FR",
      "shipping_country": "NG", "high_risk_countries": frozenset({"NG"}), "total": 10**9}, 100, "decline"),
    ({"billing_country": "GB", "review_score": 15}, 15, "review"),  # the store's thresholds decide
    ({"billing_country": "GB", "review_score": 10, "decline_score": 15}, 15, "decline"),
])
def test_assess_scores_the_facts(changes, score, level):
    assessment = assess(replace(PLAIN, **changes))
    assert (assessment.score, assessment.level) == (score, level)
    assert (score == 0) == (assessment.reasons == []) and all(assessment.reasons)


def test_the_reasons_say_what_was_seen():
    facts = replace(PLAIN, orders_last_hour={"IP address": 6}, billing_country="GB", shipping_country="NG",
                    high_risk_countries=frozenset({"NG"}))
    assert assess(facts).reasons == ["6 orders from the same IP address in the last hour",
                                     "Ships to NG, on the store's high-risk list",
                                     "Billing country GB differs from shipping country NG"]


# -- facts_for (real rows) -------------------------------------------------------------------------------------------

def _draft(email="ada@example.com", *, customer_id=None, ip="203.0.113.5", total=4500, currency="USD",
           ship="US", bill="US") -> Draft:
    return Draft(email=email, customer_id=customer_id, currency=currency, lines=(), subtotal=total,
                 discount_total=0, shipping_total=0, tax_total=0, total=total, prices_include_tax=False,
                 tax_lines=(), discount_code=None, shipping_method=None, shipping_address={"country": ship},
                 billing_address={"country": bill} if bill else None, payment_method="card",
                 cart_holder="cart:test", client_ip=ip)


def _place(draft: Draft, *, status="pending_payment", age=timedelta(0), fingerprint=None) -> Order:
    order = orders.create_pending(draft, commit=False)
    payment = payments.start(order.id, provider="stripe", amount=max(draft.total, 1), currency=draft.currency,
                             key=f"pi:test:{order.token}")
    payment.card_fingerprint = fingerprint
    order.status = status
    order.created_at = datetime.now(timezone.utc) - age
    db.session.commit()
    return order


@pytest.fixture
def store(make_store):
    return make_store()


def test_facts_count_recent_orders_by_email_customer_ip_and_card(app, store):
    with as_store(app, store):
        for _ in range(3):
            _place(_draft(), fingerprint="fp1")
        _place(_draft("ADA@example.com", ip="198.51.100.1"), age=timedelta(minutes=90))  # this day, not this hour
        _place(_draft("bob@example.com", customer_id=7, ip="203.0.113.5"), status="payment_failed")
        _place(_draft("eve@example.com", ip="198.51.100.9"), fingerprint="fp1", status="payment_failed")
        _place(_draft("old@example.com", customer_id=7), age=timedelta(days=2))  # too old to count
        current = _place(_draft(customer_id=7), fingerprint="fp1")  # the order being assessed is left out
        facts = risk.facts_for(_draft(customer_id=7), current.token, "fp1")
    assert facts.orders_last_hour == {"email": 3, "customer": 1, "IP address": 4, "card": 4}
    assert facts.orders_last_day == {"email": 4, "customer": 1, "IP address": 4, "card": 4}
    assert facts.declines_last_hour == 2  # bob's (same customer and IP) and eve's (same card)
    assert facts.card_emails_last_day == 1  # eve
    assert (facts.max_orders_per_hour, facts.review_score, facts.decline_score) == (5, 50, 80)


def test_facts_without_a_card_or_a_customer_count_what_is_known(app, store):
    with as_store(app, store):
        _place(_draft(ip=None), fingerprint="fp2")
        facts = risk.facts_for(_draft(ip=None), "x" * 24)
    assert facts.orders_last_hour == {"email": 1} and facts.card_emails_last_day == 0


def test_facts_read_the_buyers_history_and_the_stores_settings(app, store):
    with as_store(app, store):
        for total in (1000, 2000, 3000):
            _place(_draft(total=total), status="confirmed", age=timedelta(days=3))
        _place(_draft(total=99_999), status="payment_failed")  # not confirmed: not history
        _place(_draft(total=5000, currency="EUR"), status="confirmed")  # another currency
        store_service.update_settings({"fraud_high_risk_countries": ["NG"], "fraud_max_orders_per_hour": 2},
                                      ACTOR)
        facts = risk.facts_for(_draft(total=20_000, ship="NG", bill="GB"), "y" * 24)
    assert (facts.history_orders, facts.history_average) == (3, 2000)
    assert facts.high_risk_countries == {"NG"} and facts.max_orders_per_hour == 2
    assert (facts.shipping_country, facts.billing_country) == ("NG", "GB")
    assessment = assess(facts)
    # 20000 > 5 x 2000, ships to NG, bills to GB, and 2 orders by this email in the last hour
    assert (assessment.score, assessment.level) == (100, "decline")


def test_facts_of_another_store_are_not_counted(app, make_store):
    first, second = make_store(), make_store()
    with as_store(app, first):
        for _ in range(6):
            _place(_draft(), fingerprint="fp3")
    with as_store(app, second):
        facts = risk.facts_for(_draft(), "z" * 24, "fp3")
    assert facts.orders_last_hour == {"email": 0, "IP address": 0, "card": 0}


# -- record, review --------------------------------------------------------------------------------------------------

def _events(order_id: int) -> list[str]:
    return list(db.session.scalars(sa.select(OrderEvent.kind).where(OrderEvent.order_id == order_id)
                                   .order_by(OrderEvent.id)))


def test_a_held_order_is_kept_with_its_reasons_and_approved_once(app, store):
    with as_store(app, store):
        order = _place(_draft())
        risk.record(order, Assessment(60, "review", ["Ships to NG"]))
        db.session.commit()
        assert not risk.needs_review(orders.get(order.id))  # not confirmed yet
        db.session.execute(sa.update(Order).where(Order.id == order.id).values(status="confirmed"))
        db.session.commit()
        assert risk.needs_review(orders.get(order.id))
        approved = risk.approve(order.id, ACTOR)
        assert approved.risk["review"] == "approved" and approved.risk["reviewed_by"] == ACTOR
        assert approved.risk["score"] == 60 and not risk.needs_review(approved)
        with pytest.raises(OrderError) as again:
            risk.approve(order.id, ACTOR)
        assert again.value.status == 409
        assert _events(order.id) == ["placed", "risk_review", "risk_approved"]


def test_an_approved_order_records_no_event_and_needs_no_review(app, store):
    with as_store(app, store):
        order = _place(_draft(), status="confirmed")
        risk.record(order, Assessment(10, "approve", ["Billing country GB differs"]))
        db.session.commit()
        order = orders.get(order.id)
        assert order.risk == {"score": 10, "level": "approve", "reasons": ["Billing country GB differs"]}
        assert not risk.needs_review(order) and _events(order.id) == ["placed"]


def test_approving_or_rejecting_an_order_not_held_changes_nothing(app, store):
    with as_store(app, store):
        order = _place(_draft(), status="confirmed")
        for verb in (risk.approve, risk.reject):
            with pytest.raises(OrderError) as refused:
                verb(order.id, ACTOR)
            assert refused.value.status == 409
        with pytest.raises(OrderError) as missing:
            risk.approve(10**12, ACTOR)
        assert missing.value.status == 404
        assert orders.get(order.id).risk is None and _events(order.id) == ["placed"]


# -- settings --------------------------------------------------------------------------------------------------------

def _settings_form(**changes) -> dict:
    form = {"name": "Test Store", "currency": "USD", "locale": "en_US", "contact_email": "",
            "coming_soon_message": "Soon", "reservation_minutes": "15", "fraud_review_score": "40",
            "fraud_decline_score": "90", "fraud_max_orders_per_hour": "3", "fraud_high_risk_countries": "ng, ru RU"}
    return {**form, **changes}


def test_the_settings_page_saves_the_fraud_rules(app, merchant):
    browser, _, store = merchant
    response = browser.post(f"/dashboard/{store.handle}/settings", _settings_form(),
                            csrf_from=f"/dashboard/{store.handle}/settings")
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    with as_store(app, store):
        assert risk.risk_settings() == {"fraud_review_score": 40, "fraud_decline_score": 90,
                                        "fraud_high_risk_countries": ["NG", "RU"], "fraud_max_orders_per_hour": 3}
    page = browser.get(f"/dashboard/{store.handle}/settings").get_data(as_text=True)
    assert 'value="NG RU"' in page and "Fraud rules" in page


@pytest.mark.parametrize("changes, message", [
    ({"fraud_review_score": "0"}, "The review score must be between 1 and 100."),
    ({"fraud_decline_score": "101"}, "The decline score must be between 1 and 100."),
    ({"fraud_review_score": "95"}, "The review score must not be above the decline score."),
    ({"fraud_max_orders_per_hour": "1e3"}, "The orders per hour must be a whole number."),
    ({"fraud_max_orders_per_hour": "9" * 400}, "The orders per hour must be between 1 and 1,000."),
    ({"fraud_high_risk_countries": "NG XX"}, "is not a country code"),
    ({"fraud_high_risk_countries": "NG\x00"}, "control character"),  # refused at the edge, with a 400
    ({"fraud_high_risk_countries": "NG " * 400}, "at most"),
])
def test_bad_fraud_settings_are_refused_and_change_nothing(app, merchant, changes, message):
    browser, _, store = merchant
    with as_store(app, store):
        before = risk.risk_settings(), db.session.scalar(sa.select(sa.func.count()).select_from(StoreSetting))
    response = browser.post(f"/dashboard/{store.handle}/settings", _settings_form(**changes),
                            csrf_from=f"/dashboard/{store.handle}/settings")
    body = response.get_data(as_text=True)
    assert response.status_code == (400 if any("\x00" in value for value in changes.values()) else 422), body[:2000]
    assert message.replace("\u201c", "") in body.replace("&#34;", '"').replace("&#39;", "'")
    with as_store(app, store):
        assert (risk.risk_settings(), db.session.scalar(sa.select(sa.func.count()).select_from(StoreSetting))) == before
