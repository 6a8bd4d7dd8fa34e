"""Webhook endpoints: registering, editing, deleting, rotating secrets, and
the dashboard's lists (endpoints, a delivery log), redelivery and test events.

A URL is checked at registration (http or https, no credentials, at most
MAX_URL_LENGTH characters, and every address of its host public unless
WEBHOOK_ALLOW_PRIVATE_URLS) and again at each delivery (app.webhooks.sender).
The signing secret is shown once, when it is made; the store keeps it to
sign, but the dashboard never shows it again.
"""
from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum

import sqlalchemy as sa

from app import parse
from app.domain_errors import DomainError
from app.extensions import db
from app.pagination import Page, paginate
from app.store.limits import count_for_insert
from app.webhooks import sender
from app.webhooks.kicks import kick_after_commit
from app.webhooks.models import MAX_URL_LENGTH, TOPICS, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tenants.context import require_store

MAX_ENDPOINTS = 20  # per store
SECRET_PREFIX = "whsec_"


class WebhookErrorCode(str, Enum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    LIMIT_REACHED = "limit_reached"
    DISABLED = "disabled"


class WebhookError(DomainError):
    pass


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


# -- input ------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EndpointInput:
    url: str
    topics: list[str]


def check_url(raw) -> str:
    """The URL as it will be posted to, or a 422 saying what is wrong with it."""
    url = parse.text(raw, field="url", label="The URL", max_length=MAX_URL_LENGTH, required=True)
    if " " in url:
        raise parse.bad("The URL may not contain spaces.", "url")
    try:
        target = sender.target_of(url)
        sender.checked_addresses(target.hostname, sender.private_allowed())
    except sender.Refused as refused:
        raise parse.bad(str(refused), "url") from None
    return url


def check_topics(form: Mapping) -> list[str]:
    values = form.getlist("topics") if hasattr(form, "getlist") else list(form.get("topics") or [])
    if len(values) > len(TOPICS) * 2:
        raise parse.bad("Choose topics from the list.", "topics")
    chosen = list(dict.fromkeys(str(value) for value in values))
    if any(value not in TOPICS for value in chosen):
        raise parse.bad("Choose topics from the list.", "topics")
    if not chosen:
        raise parse.bad("Choose at least one topic.", "topics")
    return [topic for topic in TOPICS if topic in chosen]


def read_endpoint(form: Mapping) -> EndpointInput:
    """Every field checked before anything is written; BadInput names the field at fault."""
    topics = check_topics(form)
    return EndpointInput(check_url(form.get("url")), topics)


# -- endpoints --------------------------------------------------------------------------------------------------------

def create_endpoint(form: Mapping, actor: str) -> WebhookEndpoint:
    """A new endpoint with a fresh secret (read it off the returned row: it is shown only now)."""
    values = read_endpoint(form)
    if count_for_insert(WebhookEndpoint) >= MAX_ENDPOINTS:
        raise WebhookError(WebhookErrorCode.LIMIT_REACHED, f"A store can have {MAX_ENDPOINTS} webhook endpoints; "
                           "delete one first.", "url", status=409)
    endpoint = WebhookEndpoint(url=values.url, topics=values.topics, secret=new_secret(), status="active",
                               consecutive_failures=0, created_by=actor)
    db.session.add(endpoint)
    db.session.commit()
    return endpoint


def get_endpoint(endpoint_id: int, *, for_update: bool = False) -> WebhookEndpoint:
    query = sa.select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    endpoint = db.session.scalar(query.with_for_update() if for_update else query)
    if endpoint is None:
        raise WebhookError(WebhookErrorCode.NOT_FOUND, "No such webhook endpoint in this store.", status=404)
    return endpoint


def update_endpoint(endpoint_id: int, form: Mapping) -> WebhookEndpoint:
    """New URL and topics; `enabled` turns a disabled endpoint back on (its waiting deliveries resume)."""
    endpoint = get_endpoint(endpoint_id, for_update=True)
    values = read_endpoint(form)
    endpoint.url, endpoint.topics = values.url, values.topics
    if parse.checkbox(form, "enabled") and endpoint.status == "disabled":
        enable(endpoint)
    db.session.commit()
    return endpoint


def enable(endpoint: WebhookEndpoint) -> None:
    endpoint.status, endpoint.disabled_at, endpoint.disabled_reason = "active", None, None
    endpoint.consecutive_failures, endpoint.failing_since = 0, None
    kick_after_commit()


def rotate_secret(endpoint_id: int) -> WebhookEndpoint:
    """A new secret; deliveries from now on (retries included) are signed with it."""
    endpoint = get_endpoint(endpoint_id, for_update=True)
    endpoint.secret = new_secret()
    db.session.commit()
    return endpoint


def delete_endpoint(endpoint_id: int) -> None:
    """The endpoint and its delivery log (cascade)."""
    db.session.delete(get_endpoint(endpoint_id, for_update=True))
    db.session.commit()


def endpoints() -> list[WebhookEndpoint]:
    return list(db.session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id)))


def disabled_endpoints() -> list[WebhookEndpoint]:
    return [each for each in endpoints() if each.status == "disabled"]


# -- deliveries: the log, redelivery, test events ---------------------------------------------------------------------

def deliveries_page(endpoint_id: int, page: int, per_page: int = 25) -> Page:
    query = (sa.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
             .order_by(WebhookDelivery.id.desc()))
    return paginate(query, page=page, per_page=per_page)


def attempts_of(delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    """Each delivery's attempts, latest first."""
    found: dict[int, list[WebhookAttempt]] = {each: [] for each in delivery_ids}
    for attempt in db.session.scalars(sa.select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids))
                                      .order_by(WebhookAttempt.id.desc())):
        found[attempt.delivery_id].append(attempt)
    return found


def _active(endpoint: WebhookEndpoint) -> None:
    if endpoint.status != "active":
        raise WebhookError(WebhookErrorCode.DISABLED, "This endpoint is disabled: enable it first (edit it and tick "
                           "“Enabled”).", status=409)


def redeliver(endpoint_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again, with the same webhook id (receivers that saw it drop it), from its first attempt."""
    endpoint = get_endpoint(endpoint_id)
    _active(endpoint)
    delivery = db.session.scalar(sa.select(WebhookDelivery).where(
        WebhookDelivery.id == delivery_id, WebhookDelivery.endpoint_id == endpoint.id).with_for_update())
    if delivery is None:
        raise WebhookError(WebhookErrorCode.NOT_FOUND, "No such delivery for this endpoint.", status=404)
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
    kick_after_commit()
    db.session.commit()
    return delivery


def send_test(endpoint_id: int, form: Mapping) -> WebhookDelivery:
    """A sample event of one of the endpoint's topics, to this endpoint only."""
    endpoint = get_endpoint(endpoint_id)
    _active(endpoint)
    topic = str(form.get("topic", ""))
    if topic not in endpoint.topics:
        raise parse.bad("Choose one of the endpoint's topics.", "topic")
    now = utcnow()
    delivery = new_delivery(endpoint.id, topic, sample_payload(topic, now), now)
    db.session.add(delivery)
    kick_after_commit()
    db.session.commit()
    return delivery


def new_delivery(endpoint_id: int, topic: str, payload: dict, now: datetime) -> WebhookDelivery:
    return WebhookDelivery(endpoint_id=endpoint_id, webhook_id=str(uuid.uuid4()), topic=topic, payload=payload,
                           triggered_at=now, status="pending", attempts=0, next_attempt_at=now)


def sample_payload(topic: str, now: datetime) -> dict:
    """What "Send test event" posts: marked as a test, shaped like the topic's events."""
    subject = "refund" if topic.startswith("refunds/") else "order"
    return {"test": True, "topic": topic, subject: {"id": "test", "created_at": now.isoformat(),
                                                    "total": {"amount": 1999, "currency": require_store().currency}}}
