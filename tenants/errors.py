"""Directory errors: a stable code, the form field at fault, and a message."""
from __future__ import annotations

from enum import Enum

from app.domain_errors import DomainError


class DirectoryErrorCode(str, Enum):
    INVALID = "invalid"
    TAKEN = "taken"
    RESERVED = "reserved"
    NOT_FOUND = "not_found"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"


class DirectoryError(DomainError):
    pass


class NotFound(DirectoryError):
    status = 404

    def __init__(self, message: str = "Not found."):
        super().__init__(DirectoryErrorCode.NOT_FOUND, message)


class Forbidden(DirectoryError):
    status = 403

    def __init__(self, message: str = "You do not have permission to do that."):
        super().__init__(DirectoryErrorCode.FORBIDDEN, message)
