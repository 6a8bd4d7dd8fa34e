"""Mails the platform sends after a directory transaction commits (outbox
handlers, app.effects). One row per call, so a retried failure never sends
another row's mail twice; each mints its link inside the handler's
transaction, so a raw token is only ever in the mail."""
from __future__ import annotations

from app.effects import handler
from app.platform import invitations, resets, signup


@handler(signup.SIGNUP_REQUESTED, queue="notifications", batch=False)
def signup_mail(payloads: list[dict]) -> None:
    for payload in payloads:
        signup.send_signup_mail(**payload)


@handler(resets.RESET_REQUESTED, queue="notifications", batch=False)
def reset_mail(payloads: list[dict]) -> None:
    for payload in payloads:
        resets.send_reset_mail(**payload)


@handler(invitations.INVITATION_SENT, queue="notifications", batch=False)
def invitation_mail(payloads: list[dict]) -> None:
    for payload in payloads:
        invitations.send_invitation_mail(**payload)
