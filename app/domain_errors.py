"""The one shape every domain's errors take: a stable code, the input field
at fault (if any), a message for people, and the HTTP status a view answers
with. Each domain names its codes in its own Enum."""
from __future__ import annotations

from enum import Enum


class DomainError(ValueError):
    status = 422

    def __init__(self, code: Enum, message: str, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.field = field
        self.message = message
        if status is not None:
            self.status = status
