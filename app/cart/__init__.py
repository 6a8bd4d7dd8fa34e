"""Carts: one per shopper per store, kept in Redis, each line backed by a
stock reservation in PostgreSQL (app.inventory.reservations), which is the
authority on what the shopper holds."""
