"""Orders as JSON: the API's answers and what an idempotent checkout stores."""
from __future__ import annotations

from app.orders.models import Order


def money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


def order_json(order: Order) -> dict:
    currency = order.currency
    return {
        "token": order.token,
        "number": order.number,
        "name": order.name,
        "status": order.status,
        "payment_status": order.payment_status,
        "fulfillment_status": order.fulfillment_status,
        "email": order.email,
        "currency": currency,
        "subtotal": money(order.subtotal, currency),
        "discount": money(order.discount_total, currency),
        "discount_code": order.discount_code,
        "shipping": money(order.shipping_total, currency),
        "shipping_method": order.shipping_method,
        "tax": money(order.tax_total, currency),
        "taxes_included": order.prices_include_tax,
        "tax_lines": order.tax_lines,
        "total": money(order.total, currency),
        "shipping_address": order.shipping_address,
        "lines": [{"id": str(line.id), "variant_id": line.variant_id, "title": line.title,
                   "variant_title": line.variant_title, "sku": line.sku, "quantity": line.quantity,
                   "unit_price": money(line.unit_price, currency), "total": money(line.total, currency),
                   "fulfilled": line.fulfilled, "refunded": line.refunded}
                  for line in order.lines],
        "created_at": order.created_at.isoformat(),
        "confirmed_at": order.confirmed_at.isoformat() if order.confirmed_at else None,
    }
