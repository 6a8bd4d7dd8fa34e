"""Delivering a store's due webhooks: claim a bounded batch, post each, log
the attempt, and set the delivery's next attempt by the retry schedule.

Claiming pushes a delivery's `next_attempt_at` forward by LEASE and commits
before any network: no transaction is held open while an endpoint answers
slowly, two workers never post the same delivery at once, and a worker that
dies mid-post only delays it (at least once; the webhook id lets a receiver
drop a repeat).

An endpoint that failed WEBHOOK_DISABLE_AFTER attempts in a row, and has
been failing for at least WEBHOOK_DISABLE_HOURS, is disabled: its waiting
deliveries stay and resume when the merchant enables it again.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.webhooks import sender
from app.webhooks.models import MAX_ERROR, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tenants.context import require_store

LEASE = timedelta(seconds=60)  # more than a post can take (sender.DEADLINE)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _due(now: datetime):
    return sa.select(WebhookDelivery.id).join(WebhookEndpoint, sa.and_(
        WebhookEndpoint.store_id == WebhookDelivery.store_id, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
    ).where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
            WebhookEndpoint.status == "active")


def claim_due(limit: int, now: datetime | None = None) -> list[int]:
    """Up to `limit` due deliveries of the current store, oldest due first, held by this worker for LEASE."""
    now = now or utcnow()
    ids = list(db.session.scalars(_due(now).order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                                  .limit(limit).with_for_update(of=WebhookDelivery, skip_locked=True)))
    if ids:
        db.session.execute(sa.update(WebhookDelivery).where(WebhookDelivery.id.in_(ids))
                           .values(next_attempt_at=now + LEASE))
    db.session.commit()
    return ids


def any_due(now: datetime | None = None) -> bool:
    found = db.session.scalar(_due(now or utcnow()).limit(1)) is not None
    db.session.commit()
    return found


def next_due() -> datetime | None:
    """When the store's next waiting delivery (of an enabled endpoint) is due."""
    moment = db.session.scalar(sa.select(sa.func.min(WebhookDelivery.next_attempt_at)).join(
        WebhookEndpoint, sa.and_(WebhookEndpoint.store_id == WebhookDelivery.store_id,
                                 WebhookEndpoint.id == WebhookDelivery.endpoint_id))
        .where(WebhookDelivery.status == "pending", WebhookEndpoint.status == "active"))
    db.session.commit()
    return moment


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True).encode()


def headers_of(delivery: WebhookDelivery, body: bytes, secret: str) -> dict[str, str]:
    return {"X-Vitrine-Topic": delivery.topic, "X-Vitrine-Webhook-Id": delivery.webhook_id,
            "X-Vitrine-Triggered-At": delivery.triggered_at.astimezone(timezone.utc).isoformat(),
            "X-Vitrine-Hmac-Sha256": sender.sign(body, secret), "X-Vitrine-Store": require_store().handle}


def attempt(delivery_id: int) -> bool | None:
    """Post one claimed delivery and record how it went: True delivered, False failed this time, None skipped."""
    delivery = db.session.get(WebhookDelivery, (require_store().id, delivery_id))
    endpoint = delivery and db.session.get(WebhookEndpoint, (delivery.store_id, delivery.endpoint_id))
    if delivery is None or endpoint is None or delivery.status != "pending" or endpoint.status != "active":
        db.session.commit()
        return None
    body = body_of(delivery)
    url, headers = endpoint.url, headers_of(delivery, body, endpoint.secret)
    db.session.commit()  # nothing held while the endpoint answers
    answer = sender.post(url, body, headers)
    record(delivery_id, answer, utcnow())
    return answer.ok


def record(delivery_id: int, answer: sender.Answer, now: datetime) -> None:
    delivery = db.session.scalar(sa.select(WebhookDelivery).where(WebhookDelivery.id == delivery_id).with_for_update())
    if delivery is None:  # the endpoint was deleted meanwhile
        db.session.commit()
        return
    endpoint = db.session.scalar(sa.select(WebhookEndpoint).where(WebhookEndpoint.id == delivery.endpoint_id)
                                 .with_for_update())
    error = answer.error or (None if answer.ok else f"The endpoint answered {answer.status_code}; only 2xx counts.")
    db.session.add(WebhookAttempt(delivery_id=delivery.id, attempted_at=now, status_code=answer.status_code,
                                  duration_ms=min(answer.duration_ms, 2**31 - 1),
                                  error=sender.clean(error, MAX_ERROR), response_snippet=answer.snippet))
    delivery.attempts += 1
    delivery.last_attempt_at, delivery.last_status_code = now, answer.status_code
    delivery.last_error = sender.clean(error, MAX_ERROR)
    endpoint.last_attempt_at, endpoint.last_status_code = now, answer.status_code
    if answer.ok:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        endpoint.consecutive_failures, endpoint.failing_since = 0, None
    else:
        _schedule_retry(delivery, now)
        _count_failure(endpoint, now)
    db.session.commit()


def _schedule_retry(delivery: WebhookDelivery, now: datetime) -> None:
    schedule = current_app.config["WEBHOOK_RETRY_SCHEDULE"]
    if delivery.attempts > len(schedule):
        delivery.status, delivery.next_attempt_at = "failed", None
    else:
        delivery.next_attempt_at = now + timedelta(seconds=schedule[delivery.attempts - 1])


def _count_failure(endpoint: WebhookEndpoint, now: datetime) -> None:
    endpoint.consecutive_failures += 1
    endpoint.failing_since = endpoint.failing_since or now
    hours = float(current_app.config["WEBHOOK_DISABLE_HOURS"])
    if (endpoint.consecutive_failures >= int(current_app.config["WEBHOOK_DISABLE_AFTER"])
            and endpoint.failing_since <= now - timedelta(hours=hours)):
        endpoint.status, endpoint.disabled_at = "disabled", now
        endpoint.disabled_reason = (f"Disabled after {endpoint.consecutive_failures} failed attempts in a row since "
                                    f"{endpoint.failing_since.astimezone(timezone.utc):%d %b %Y, %H:%M} UTC.")


def run_batch() -> tuple[int, bool]:
    """Post up to WEBHOOK_BATCH due deliveries of the current store; (how many were tried, whether more are due)."""
    limit = int(current_app.config["WEBHOOK_BATCH"])
    ids = claim_due(limit)
    for delivery_id in ids:
        attempt(delivery_id)
    return len(ids), len(ids) == limit and any_due()
