"""Checkout: what an order costs (the merchant's shipping zones and rates,
tax rates and discount codes, and the pure pricing function over them)."""
