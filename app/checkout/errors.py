"""Errors of the checkout's pricing rules: a code, a message for people, the field at fault."""
from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from app.domain_errors import DomainError


class PricingErrorCode(str, Enum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    LIMIT_REACHED = "limit_reached"
    TAKEN = "taken"
    IN_USE = "in_use"
    NO_SUCH_SHIPPING = "no_such_shipping"


class DiscountErrorCode(str, Enum):
    UNKNOWN = "unknown"
    INACTIVE = "inactive"
    NOT_STARTED = "not_started"
    EXPIRED = "expired"
    BELOW_MINIMUM = "below_minimum"
    USED_UP = "used_up"
    ALREADY_USED = "already_used"


class PricingError(DomainError):
    """Refused; nothing was changed."""


class DiscountError(PricingError):
    """A discount code that cannot be used for this order; the message says why, for the shopper."""


class FormErrors(PricingError):
    """Several fields of one form refused at once: `errors` maps field -> message."""

    def __init__(self, errors: dict[str, str], status: int = 422):
        first_field, first_message = next(iter(errors.items()))
        super().__init__(PricingErrorCode.INVALID, first_message, first_field, status=status)
        self.errors = errors


def not_found(message: str) -> PricingError:
    return PricingError(PricingErrorCode.NOT_FOUND, message, status=404)


def collect(checks: dict[str, Callable[[], object]]) -> dict:
    """Run each field's parser and return field -> value; every refusal is
    gathered into one FormErrors, so the form shows them all at once."""
    values, errors = {}, {}
    for name, check in checks.items():
        try:
            values[name] = check()
        except DomainError as error:
            errors.setdefault(error.field or name, error.message)
    if errors:
        raise FormErrors(errors)
    return values
