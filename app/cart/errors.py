"""The cart's refusals, in the one shape every domain's errors take."""
from __future__ import annotations

from enum import Enum

from app.domain_errors import DomainError


class CartErrorCode(str, Enum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    SHORTAGE = "shortage"
    BUSY = "busy"
    FULL = "cart_full"
    BAD_TOKEN = "invalid_cart_token"


class CartError(DomainError):
    pass


class Shortage(CartError):
    """Fewer units can be held than asked for; nothing was changed. Carries
    which line and how many the shopper could have in all."""

    def __init__(self, variant_id: int, available: int, message: str):
        super().__init__(CartErrorCode.SHORTAGE, message, "quantity", status=409)
        self.variant_id = variant_id
        self.available = available
