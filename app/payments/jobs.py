"""Payment jobs, on the "payments" queue through the outbox (app.effects):
capturing an authorized payment. Each runs one order at a time (one outbox
row per call) and is safe to run twice: the capture's idempotency key is made
from the payment's id, so a worker killed mid-call is retried into the same
capture, never a second one."""
from __future__ import annotations

import logging

from app.effects import handler
from app.extensions import db
from app.orders import lifecycle
from app.orders.events import CAPTURE_REQUESTED
from app.orders.service import OrderError, OrderErrorCode

log = logging.getLogger(__name__)


@handler(CAPTURE_REQUESTED, queue="payments", batch=False)
def capture_payments(payloads: list[dict]) -> None:
    """A failure (the PSP away) raises: the row stays and the dispatch job is retried with back-off."""
    for payload in payloads:
        try:
            lifecycle.capture(int(payload["order_id"]))
        except OrderError as refused:
            if refused.code not in (OrderErrorCode.ILLEGAL, OrderErrorCode.NOT_FOUND):
                raise
            db.session.rollback()
            log.warning("capture of order %s refused: %s", payload["order_id"], refused.message)
