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
    PASS_REQUIRED = "pass_required"


class CartError(DomainError):
    def __init__(self, code: CartErrorCode, message: str, field: str | None = None, status: int | None = None,
                 url: str | None = None):
        super().__init__(code, message, field, status)
        self.url = url  # where the shopper can put it right (a launch's waiting room), when there is such a place


class Shortage(CartError):
    """Fewer units can be held than asked for; nothing was changed. Carries
    which line and how many the shopper could have in all."""

    def __init__(self, variant_id: int, available: int, message: str):
        super().__init__(CartErrorCode.SHORTAGE, message, "quantity", status=409)
        self.variant_id = variant_id
        self.available = available
