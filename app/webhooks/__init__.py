"""Merchant webhooks: a store's endpoints hear about its orders and refunds.

Other domains call `publish(topic, payload)` inside their transaction
(app.webhooks.events); the rest is this package's: endpoints (service),
deliveries with their own back-off, and the RQ job that posts them (jobs).
"""
