"""API errors and query-parameter parsing.

Every error answers JSON `{"error": {"code", "message"[, "parameter"]}}`; the
codes are stable and clients may branch on them. Bad query parameters are a
400 before anything is read from the database.
"""
from __future__ import annotations

from enum import Enum

from flask import jsonify

from app.parse import MAX_PAGE, BadInput, page_number


class ApiErrorCode(str, Enum):
    INVALID_PARAMETER = "invalid_parameter"
    NOT_FOUND = "not_found"
    COLLECTION_TOO_LARGE = "collection_too_large"
    SEARCH_UNAVAILABLE = "search_unavailable"


class ApiError(Exception):
    def __init__(self, code: ApiErrorCode, message: str, *, status: int, parameter: str | None = None,
                 retry_after: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.parameter = parameter
        self.retry_after = retry_after

    def response(self):
        body = {"code": self.code.value, "message": self.message}
        if self.parameter:
            body["parameter"] = self.parameter
        headers = {"Retry-After": str(self.retry_after)} if self.retry_after else {}
        return jsonify(error=body), self.status, headers


def invalid_parameter(name: str, message: str) -> ApiError:
    return ApiError(ApiErrorCode.INVALID_PARAMETER, message, status=400, parameter=name)


def not_found(message: str) -> ApiError:
    return ApiError(ApiErrorCode.NOT_FOUND, message, status=404)


def collection_too_large(handle: str, limit: int) -> ApiError:
    return ApiError(ApiErrorCode.COLLECTION_TOO_LARGE,
                    f"Search within a collection works for collections of up to {limit:,} active products; "
                    f"“{handle}” has more. Search the whole store, or list the collection without `q`.",
                    status=400, parameter="collection")


def search_unavailable(retry_after: int) -> ApiError:
    return ApiError(ApiErrorCode.SEARCH_UNAVAILABLE,
                    "This store's search index is being built. Try again in a few seconds.",
                    status=503, retry_after=retry_after)


def int_parameter(args, name: str, *, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise invalid_parameter(name, f"`{name}` must be a whole number.")
    value = int(text)
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f"{minimum} or more"
        raise invalid_parameter(name, f"`{name}` must be {bounds}.")
    return value


def page_parameter(args, name: str = "page") -> int:
    """The page, read by the one page parser every list uses; its refusal in the API's words."""
    try:
        return page_number(args, name)
    except BadInput:
        raise invalid_parameter(name, f"`{name}` must be a whole number between 1 and {MAX_PAGE:,}.") from None


def bool_parameter(args, name: str) -> bool | None:
    raw = args.get(name)
    if raw is None:
        return None
    value = raw.strip().lower()
    if value not in ("true", "false"):
        raise invalid_parameter(name, f"`{name}` must be true or false.")
    return value == "true"


def text_parameter(args, name: str, *, max_length: int = 255) -> str | None:
    """A filter's value with runs of whitespace folded; blank means no filter."""
    raw = args.get(name)
    if raw is None:
        return None
    value = " ".join(raw.split())
    if len(value) > max_length:
        raise invalid_parameter(name, f"`{name}` can be at most {max_length} characters.")
    return value or None
