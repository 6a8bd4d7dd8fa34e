"""What inventory tells the rest of the platform, through the outbox (app.effects)."""
from __future__ import annotations

from app.effects import emit

STOCK_LOW = "stock.low"  # payload: variant_id, available; it crossed its low-stock threshold


def stock_low(variant_id: int, available: int) -> None:
    emit(STOCK_LOW, variant_id=variant_id, available=available)
