from __future__ import annotations

from enum import Enum

from app.domain_errors import DomainError


class CatalogErrorCode(str, Enum):
    INVALID = "invalid"
    TAKEN = "taken"
    NOT_FOUND = "not_found"
    NEEDS_CONFIRMATION = "needs_confirmation"
    CONFLICT = "conflict"
    LIMIT_REACHED = "limit_reached"


class CatalogError(DomainError):
    pass


def invalid(message: str, field: str | None = None) -> CatalogError:
    return CatalogError(CatalogErrorCode.INVALID, message, field)


def not_found(what: str = "product") -> CatalogError:
    return CatalogError(CatalogErrorCode.NOT_FOUND, f"No such {what} in this store.", status=404)
