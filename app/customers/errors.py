"""Errors of the customers domain: a code, a message for the shopper, the field at fault."""
from __future__ import annotations

from enum import Enum

from app.domain_errors import DomainError


class CustomerErrorCode(str, Enum):
    INVALID = "invalid"
    TAKEN = "email_taken"
    NOT_FOUND = "not_found"
    EXPIRED = "link_expired"
    FULL = "limit_reached"


class CustomerError(DomainError):
    """Refused; nothing was changed."""


class FormErrors(DomainError):
    """Several fields of one form refused at once: `errors` maps field -> message."""

    def __init__(self, errors: dict[str, str], status: int = 422):
        first_field, first_message = next(iter(errors.items()))
        super().__init__(CustomerErrorCode.INVALID, first_message, first_field, status=status)
        self.errors = errors


def not_found(message: str = "Not found.") -> CustomerError:
    return CustomerError(CustomerErrorCode.NOT_FOUND, message, status=404)


def collect(checks: dict):
    """Run each field's parser (field -> zero-argument callable) and return
    field -> value; every refusal is gathered into one FormErrors."""
    values, errors = {}, {}
    for name, check in checks.items():
        try:
            values[name] = check()
        except DomainError as error:
            errors[error.field or name] = error.message
    if errors:
        raise FormErrors(errors)
    return values
