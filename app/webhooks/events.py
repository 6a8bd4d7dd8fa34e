"""The interface other domains call: `publish(topic, payload)`, inside their
transaction. It records the event in the outbox (app.effects); once the
transaction commits, the outbox's handler (app.webhooks.handlers) makes one
delivery for each enabled endpoint of the store subscribed to the topic and
queues the delivery job. A rolled-back transaction sends nothing."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from app.effects import emit
from app.webhooks.models import TOPICS

PUBLISHED = "webhooks.published"  # payload: webhook_topic, payload, triggered_at
MAX_PAYLOAD = 512 * 1024  # bytes of JSON, a guard against a caller posting a whole catalog


def publish(topic: str, payload: dict) -> None:
    """Tell the current store's endpoints subscribed to `topic` (one of TOPICS) about `payload` (JSON-able)."""
    if topic not in TOPICS:
        raise ValueError(f"unknown webhook topic {topic!r}")
    if len(json.dumps(payload, separators=(",", ":"))) > MAX_PAYLOAD:  # also: not JSON-able fails here, not later
        raise ValueError(f"webhook payload of {topic} is larger than {MAX_PAYLOAD} bytes")
    emit(PUBLISHED, webhook_topic=topic, payload=payload, triggered_at=datetime.now(timezone.utc).isoformat())
