"""Stripe's error objects: `{"error": {type, code, message, param, ...}}` with
the HTTP status Stripe gives each kind.

`ParamError` is raised while reading parameters, before an endpoint runs:
Stripe does not save an idempotent result for those, so a corrected retry
with the same key is allowed. Every other `StripeError` is saved and replayed.
"""
from __future__ import annotations

from typing import Any

DOCS = "https://stripe.com/docs/error-codes/"


class StripeError(Exception):
    def __init__(self, status: int, type_: str, message: str, code: str | None = None, param: str | None = None,
                 **extra: Any):
        super().__init__(message)
        self.status, self.type, self.message, self.code, self.param, self.extra = (
            status, type_, message, code, param, extra)

    def body(self) -> dict:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = DOCS + self.code.replace("_", "-")
        if self.param:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


class ParamError(StripeError):
    """Refused while reading the request: nothing ran, nothing is saved for its idempotency key."""


def invalid(message: str, param: str | None = None, code: str | None = None, status: int = 400) -> ParamError:
    return ParamError(status, "invalid_request_error", message, code=code, param=param)


def state_error(message: str, param: str | None = None, code: str | None = None, **extra: Any) -> StripeError:
    """A request that was read fine but that the object's state refuses."""
    return StripeError(400, "invalid_request_error", message, code=code, param=param, **extra)


def missing_object(kind: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(404, "invalid_request_error", f"No such {kind}: '{object_id}'", code="resource_missing",
                       param=param)


def unknown_parameters(names: list[str]) -> ParamError:
    if len(names) == 1:
        return invalid(f"Received unknown parameter: {names[0]}", param=names[0], code="parameter_unknown")
    return invalid(f"Received unknown parameters: {', '.join(names)}", param=names[0], code="parameter_unknown")


def missing_parameter(name: str) -> ParamError:
    return invalid(f"Missing required param: {name}.", param=name, code="parameter_missing")


def api_error(message: str = "An unknown error occurred") -> StripeError:
    return StripeError(500, "api_error", message)


def authentication(message: str) -> StripeError:
    return StripeError(401, "invalid_request_error", message)


def not_found_route(method: str, path: str) -> StripeError:
    return StripeError(404, "invalid_request_error",
                       f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can "
                       "help at https://support.stripe.com/.")
