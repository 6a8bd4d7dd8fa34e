"""What orders tell the rest of the platform, through the outbox (app.effects)."""
from __future__ import annotations

ORDER_CONFIRMED = "order.confirmed"  # payload: order_id; it was paid for (or placed with a manual payment)
