"""Publishing and delivering: real receivers on 127.0.0.1, real RQ workers."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from app.extensions import db
from app.webhooks import delivery as deliveries
from app.webhooks.events import publish
from app.webhooks.jobs import deliver
from app.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.conftest import TEST_VAR, as_store, run_effects, wait_until
from tests.webhooks.conftest import add_endpoint, run_webhook_worker, start_webhook_worker, verify


def _deliveries() -> list[WebhookDelivery]:
    return list(db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))


def _statuses() -> list[str]:
    db.session.rollback()  # a fresh snapshot: the worker commits in its own process
    return [d.status for d in _deliveries()]


def test_a_published_event_reaches_the_endpoint_signed_after_the_commit(loopback, merchant, receiver, service_env):
    browser, _, store = merchant
    endpoint_id, secret = add_endpoint(browser, store.handle, receiver.url, topics=("orders/create", "orders/paid"))
    with as_store(loopback, store):
        publish("orders/create", {"order": {"id": "ord_1", "total": {"amount": 2500, "currency": "USD"}}})
        assert _deliveries() == []  # recorded in the outbox only: nothing before the commit
        db.session.commit()

    run_webhook_worker(service_env)

    assert len(receiver.received) == 1
    got = receiver.received[0]
    assert verify(got, secret)
    assert json.loads(got.body) == {"order": {"id": "ord_1", "total": {"amount": 2500, "currency": "USD"}}}
    assert got.headers["X-Vitrine-Topic"] == "orders/create" and got.headers["X-Vitrine-Store"] == store.handle
    assert got.headers["Content-Type"] == "application/json"
    datetime.fromisoformat(got.headers["X-Vitrine-Triggered-At"])
    with as_store(loopback, store):
        [done] = _deliveries()
        assert (done.status, done.attempts, done.webhook_id) == ("delivered", 1, got.headers["X-Vitrine-Webhook-Id"])
        [logged] = db.session.scalars(sa.select(WebhookAttempt)).all()
        assert logged.status_code == 200 and logged.response_snippet == "thanks" and logged.error is None
        webhook_id = done.webhook_id
    log = browser.get(f"/dashboard/{store.handle}/webhooks/{endpoint_id}").get_data(as_text=True)
    assert webhook_id in log and "Delivered" in log
    assert secret not in log  # shown once, at creation


def test_a_rolled_back_transaction_sends_nothing(loopback, merchant, receiver, service_env):
    browser, _, store = merchant
    add_endpoint(browser, store.handle, receiver.url)
    with as_store(loopback, store):
        publish("orders/create", {"order": {"id": "rolled-back"}})
        db.session.rollback()
        publish("orders/create", {"order": {"id": "kept"}})
        db.session.commit()

    run_webhook_worker(service_env)

    assert [json.loads(r.body)["order"]["id"] for r in receiver.received] == ["kept"]


def test_only_subscribed_enabled_endpoints_of_the_store_get_the_event(loopback, merchant, make_account, make_store,
                                                                       receiver):
    browser, _, store = merchant
    add_endpoint(browser, store.handle, receiver.url, topics=("refunds/create",))
    paid_id, _ = add_endpoint(browser, store.handle, receiver.url + "/paid", topics=("orders/paid",))
    other = make_store(owner=make_account())
    with as_store(loopback, other):
        publish("orders/paid", {"order": {"id": "elsewhere"}})
        db.session.commit()
        run_effects("webhooks")
        assert _deliveries() == []
    with as_store(loopback, store):
        publish("orders/paid", {"order": {"id": "here"}})
        db.session.commit()
        run_effects("webhooks")
        assert [(d.endpoint_id, d.topic) for d in _deliveries()] == [(paid_id, "orders/paid")]


def test_a_failing_receiver_gets_retries_with_the_same_webhook_id_then_succeeds(loopback, merchant, receiver,
                                                                                 service_env):
    browser, _, store = merchant
    endpoint_id, secret = add_endpoint(browser, store.handle, receiver.url)
    receiver.statuses = [500, 503, 200]
    with as_store(loopback, store):
        publish("orders/create", {"order": {"id": "retried"}})
        db.session.commit()
    worker = start_webhook_worker(service_env, TEST_VAR / "webhook-worker.log")
    try:
        wait_until(lambda: len(receiver.received) >= 3, "three attempts (two retries, scheduled 1 s apart)")
        with as_store(loopback, store):
            wait_until(lambda: _statuses() == ["delivered"], "the delivery marked delivered")
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert len(receiver.received) == 3
    assert len({r.headers["X-Vitrine-Webhook-Id"] for r in receiver.received}) == 1  # receivers can drop a repeat
    assert all(verify(r, secret) for r in receiver.received)
    with as_store(loopback, store):
        attempts = db.session.scalars(sa.select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
        assert [a.status_code for a in attempts] == [500, 503, 200]
        assert "answered 500" in attempts[0].error and "\x00" not in attempts[0].response_snippet
        endpoint = db.session.get(WebhookEndpoint, (store.id, endpoint_id))
        assert endpoint.consecutive_failures == 0 and endpoint.last_status_code == 200


def _run_due(store) -> None:
    """Make the store's waiting deliveries due now and run its delivery job in-process."""
    db.session.execute(sa.update(WebhookDelivery).where(WebhookDelivery.status == "pending")
                       .values(next_attempt_at=deliveries.utcnow() - timedelta(seconds=1)))
    db.session.commit()
    deliver(store.id)


def test_after_its_last_attempt_a_delivery_fails_and_a_failing_endpoint_is_disabled(loopback, merchant, receiver,
                                                                                      monkeypatch):
    browser, _, store = merchant
    endpoint_id, _ = add_endpoint(browser, store.handle, receiver.url)
    receiver.statuses = [500]
    monkeypatch.setitem(loopback.config, "WEBHOOK_DISABLE_AFTER", 5)
    monkeypatch.setitem(loopback.config, "WEBHOOK_DISABLE_HOURS", 0)
    with as_store(loopback, store):
        publish("orders/cancelled", {"order": {"id": "not subscribed"}})
        publish("orders/create", {"order": {"id": "doomed"}})
        db.session.commit()
        run_effects("webhooks")
        for _ in range(4):  # the first attempt and three retries: the schedule has three
            _run_due(store)
        [doomed] = _deliveries()
        assert (doomed.status, doomed.attempts, doomed.next_attempt_at) == ("failed", 4, None)
        endpoint = db.session.get(WebhookEndpoint, (store.id, endpoint_id))
        assert endpoint.status == "active" and endpoint.consecutive_failures == 4

        publish("orders/create", {"order": {"id": "the fifth failure"}})
        db.session.commit()
        run_effects("webhooks")
        _run_due(store)
        db.session.refresh(endpoint)
        assert endpoint.status == "disabled" and "5 failed attempts" in endpoint.disabled_reason
        publish("orders/create", {"order": {"id": "after disabling"}})
        db.session.commit()
        run_effects("webhooks")
        assert len(_deliveries()) == 2  # a disabled endpoint gets no new events
    assert len(receiver.received) == 5
    listing = browser.get(f"/dashboard/{store.handle}/webhooks").get_data(as_text=True)
    assert "is disabled" in listing and "5 failed attempts" in listing

    receiver.statuses = [200]
    page = f"/dashboard/{store.handle}/webhooks/{endpoint_id}"
    enabled = browser.post(page, {"url": receiver.url, "topics": "orders/create", "enabled": "on"}, csrf_from=page)
    assert enabled.status_code == 303
    with as_store(loopback, store):
        _run_due(store)  # the delivery that was waiting when it was disabled goes out now
        assert [d.status for d in _deliveries()] == ["failed", "delivered"]
        redeliver = browser.post(f"{page}/deliveries/{_deliveries()[0].id}/redeliver", csrf_from=page)
        assert redeliver.status_code == 303
        _run_due(store)
        assert [d.status for d in _deliveries()] == ["delivered", "delivered"]
    assert json.loads(receiver.received[-1].body) == {"order": {"id": "doomed"}}


def test_a_private_address_is_refused_at_delivery_time_in_production(loopback, merchant, receiver, monkeypatch):
    browser, _, store = merchant
    add_endpoint(browser, store.handle, receiver.url)  # allowed while registering (as in development)
    with as_store(loopback, store):
        publish("orders/create", {"order": {"id": "blocked"}})
        db.session.commit()
        run_effects("webhooks")
        monkeypatch.setitem(loopback.config, "WEBHOOK_ALLOW_PRIVATE_URLS", False)
        deliver(store.id)
        [blocked] = _deliveries()
        assert blocked.status == "pending" and blocked.attempts == 1 and "private network" in blocked.last_error
    assert receiver.received == []


def test_send_test_event_posts_a_sample_to_that_endpoint(loopback, merchant, receiver, service_env):
    browser, _, store = merchant
    endpoint_id, secret = add_endpoint(browser, store.handle, receiver.url, topics=("refunds/create",))
    page = f"/dashboard/{store.handle}/webhooks/{endpoint_id}"
    assert browser.post(f"{page}/test", {"topic": "refunds/create"}, csrf_from=page).status_code == 303
    run_webhook_worker(service_env)
    [got] = receiver.received
    assert verify(got, secret) and json.loads(got.body)["test"] is True
    assert got.headers["X-Vitrine-Topic"] == "refunds/create"


def test_one_job_posts_a_bounded_batch_and_queues_the_rest_behind_other_stores(loopback, merchant, receiver,
                                                                                 monkeypatch, service_env):
    import redis
    from rq import Queue

    browser, _, store = merchant
    add_endpoint(browser, store.handle, receiver.url)
    monkeypatch.setitem(loopback.config, "WEBHOOK_BATCH", 3)
    webhooks = Queue("webhooks", connection=redis.Redis.from_url(service_env["REDIS_URL"]))
    with as_store(loopback, store):
        for n in range(7):
            publish("orders/create", {"order": {"id": f"o{n}"}})
        db.session.commit()
        run_effects("webhooks")
        webhooks.empty()
        assert deliver(store.id) == 3
        assert len(receiver.received) == 3
        assert [job.args for job in webhooks.get_jobs()] == [(store.id,)]  # the rest: one job at the back
        assert deliver(store.id) == 3 and deliver(store.id) == 1
    webhooks.empty()
    assert sorted(json.loads(r.body)["order"]["id"] for r in receiver.received) == [f"o{n}" for n in range(7)]


def test_publish_refuses_an_unknown_topic(loopback, merchant):
    import pytest

    _, _, store = merchant
    with as_store(loopback, store):
        with pytest.raises(ValueError):
            publish("orders/exploded", {})
        with pytest.raises(TypeError):
            publish("orders/create", {"when": datetime.now(timezone.utc)})  # not JSON: found by the caller
