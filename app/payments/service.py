"""Payment rows: what we asked the PSP for, and what it answered."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.payments.gateway import Intent
from app.payments.models import Payment


def start(order_id: int, *, provider: str, amount: int, currency: str, key: str,
          card_fingerprint: str | None = None) -> Payment:
    """A payment about to be asked for (in the caller's transaction); the card's
    fingerprint, when known, is what the fraud rules' velocity checks follow."""
    payment = Payment(order_id=order_id, provider=provider, amount=amount, currency=currency, idempotency_key=key,
                      status="awaiting" if provider == "manual" else "pending",
                      card_fingerprint=card_fingerprint[:64] if card_fingerprint else None)
    db.session.add(payment)
    db.session.flush()
    return payment


def record(payment_id: int, intent: Intent, *, error: str | None = None, commit: bool = True) -> Payment:
    """Keep the PSP's view of the payment (commits, unless the caller's transaction goes on)."""
    payment = db.session.scalar(sa.select(Payment).where(Payment.id == payment_id).with_for_update())
    payment.intent_id = intent.id
    payment.status = "failed" if error and intent.status in ("pending", "failed") else intent.status
    payment.captured = min(intent.received, payment.amount)
    payment.last_error = error or intent.error
    if commit:
        db.session.commit()
    return payment


def failed(payment_id: int, message: str, *, commit: bool = True) -> None:
    db.session.execute(sa.update(Payment).where(Payment.id == payment_id)
                       .values(status="failed", last_error=message, updated_at=sa.func.now()))
    if commit:
        db.session.commit()


def of_intent(intent_id: str) -> Payment | None:
    return db.session.scalar(sa.select(Payment).where(Payment.intent_id == intent_id))
