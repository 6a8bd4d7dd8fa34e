"""From published events to deliveries, after the publishing transaction
committed (an outbox handler, app.effects). It runs in the transaction that
deletes its outbox rows, so each event gets its deliveries exactly once."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from app.effects import handler
from app.extensions import db
from app.webhooks.events import PUBLISHED
from app.webhooks.kicks import kick_after_commit
from app.webhooks.models import WebhookEndpoint
from app.webhooks.service import new_delivery


@handler(PUBLISHED, queue="webhooks")
def record_deliveries(payloads: list[dict]) -> None:
    made = 0
    for event in payloads:
        subscribed = db.session.scalars(sa.select(WebhookEndpoint.id).where(
            WebhookEndpoint.status == "active", sa.literal(event["webhook_topic"]) == sa.any_(WebhookEndpoint.topics)))
        triggered_at = datetime.fromisoformat(event["triggered_at"])
        for endpoint_id in subscribed:
            db.session.add(new_delivery(endpoint_id, event["webhook_topic"], event["payload"], triggered_at))
            made += 1
    if made:
        kick_after_commit()
