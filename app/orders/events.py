"""What orders tell the rest of the platform, through the outbox (app.effects)."""
from __future__ import annotations

ORDER_CONFIRMED = "order.confirmed"  # payload: order_id; it was paid for (or placed with a manual payment)
CAPTURE_REQUESTED = "payment.capture"  # payload: order_id; capture its authorized payment (app.payments.jobs)
SHIPPED_MAIL = "order.shipped_mail"  # payload: order_id, shipment_id; the shipping confirmation to the shopper
REFUNDED_MAIL = "order.refunded_mail"  # payload: order_id, refund_id; the refund confirmation to the shopper

# Merchant webhook topics (the names Shopify uses), published through app.webhooks.events.publish.
ORDERS_FULFILLED = "orders/fulfilled"  # payload: order_id, shipment_id
ORDERS_CANCELLED = "orders/cancelled"  # payload: order_id
REFUNDS_CREATE = "refunds/create"  # payload: order_id, refund_id
WEBHOOK_TOPICS = (ORDERS_FULFILLED, ORDERS_CANCELLED, REFUNDS_CREATE)
