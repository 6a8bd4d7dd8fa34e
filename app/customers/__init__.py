"""A store's customer accounts (storefront log-in), their addresses and
wishlists. Services run inside a store context (tenants.context); the web
layer is app.storefront.account."""
