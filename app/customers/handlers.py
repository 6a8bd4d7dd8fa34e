"""Mails to customers, sent after the transaction that asked for them
commits (outbox handlers, app.effects). One row per call, so a retried
failure never sends another row's mail twice; the link is minted inside
the handler's transaction, so a raw token is only ever in the mail."""
from __future__ import annotations

from app.customers import service
from app.effects import handler


@handler(service.RESET_REQUESTED, queue="notifications", batch=False)
def reset_mail(payloads: list[dict]) -> None:
    for payload in payloads:
        service.send_reset_mail(**payload)
