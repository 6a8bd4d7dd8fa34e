"""The emulator's WSGI application: Stripe's /v1 API, the 3-D Secure page, and
the /_emulator/ controls for tests.

Each API request: a Request-Id; an injected fault, if any; the API key; the
route; the parameters; the idempotency key; then the endpoint, run under the
state lock and answered as JSON.
"""
from __future__ import annotations

import base64
import binascii
import json
import re
import sys
import time
import traceback
from collections.abc import Callable

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from app.payments.emulator import charges, intents, methods, three_ds
from app.payments.emulator.context import Call, Parts
from app.payments.emulator.errors import ParamError, StripeError, api_error, authentication, not_found_route
from app.payments.emulator.events import API_VERSION
from app.payments.emulator.faults import Faults, Settings, parse as parse_faults
from app.payments.emulator.idempotency import Conflict, IdempotencyKeys, Replay
from app.payments.emulator.params import nest
from app.payments.emulator.state import new_id

SECRET_KEY = re.compile(r"^(sk|rk)_test_[A-Za-z0-9_]{8,240}$")
PUBLISHABLE_KEY = re.compile(r"^pk_test_[A-Za-z0-9_]{8,240}$")
NO_KEY = ("You did not provide an API key. You need to provide your API key in the Authorization header, using "
          "Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication "
          "for details, or we can help at https://support.stripe.com/.")
PUBLISHABLE_REFUSED = ("This API call cannot be made with a publishable API key. Please use a secret API key. You can "
                       "find a list of your API keys at https://dashboard.stripe.com/account/apikeys.")
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
        "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key, Stripe-Version, Stripe-Account",
        "Access-Control-Expose-Headers": "Request-Id, Idempotent-Replayed, Original-Request, Stripe-Version",
        "Access-Control-Max-Age": "300"}
MAX_BODY = 1024 * 1024
MAX_FORM_PARTS = 2000

Endpoint = Callable[..., tuple[int, dict]]
ROUTES: list[tuple[str, str, Endpoint]] = [
    ("POST", "/v1/payment_methods", methods.create_payment_method),
    ("GET", "/v1/payment_methods/<method_id>", methods.retrieve_payment_method),
    ("POST", "/v1/payment_intents", intents.create),
    ("GET", "/v1/payment_intents", intents.list_intents),
    ("GET", "/v1/payment_intents/search", intents.search),
    ("GET", "/v1/payment_intents/<intent_id>", intents.retrieve),
    ("POST", "/v1/payment_intents/<intent_id>", intents.update),
    ("POST", "/v1/payment_intents/<intent_id>/confirm", intents.confirm),
    ("POST", "/v1/payment_intents/<intent_id>/capture", intents.capture),
    ("POST", "/v1/payment_intents/<intent_id>/cancel", intents.cancel),
    ("GET", "/v1/charges", lambda call, params: (200, charges.list_charges(call, params))),
    ("GET", "/v1/charges/<charge_id>", lambda call, params, charge_id: (200, charges.retrieve_charge(
        call, params, charge_id))),
    ("POST", "/v1/refunds", charges.create_refund),
    ("GET", "/v1/refunds", lambda call, params: (200, charges.list_refunds(call, params))),
    ("GET", "/v1/refunds/<refund_id>", lambda call, params, refund_id: (200, charges.retrieve_refund(
        call, params, refund_id))),
    ("GET", "/v1/events", methods.list_events),
    ("GET", "/v1/events/<event_id>", methods.retrieve_event),
    ("POST", "/v1/webhook_endpoints", methods.create_endpoint),
    ("GET", "/v1/webhook_endpoints", methods.list_endpoints),
    ("GET", "/v1/webhook_endpoints/<endpoint_id>", methods.retrieve_endpoint),
    ("POST", "/v1/webhook_endpoints/<endpoint_id>", methods.update_endpoint),
    ("DELETE", "/v1/webhook_endpoints/<endpoint_id>", methods.delete_endpoint),
]
PUBLISHABLE_ALLOWED = {methods.create_payment_method}


class Emulator:
    def __init__(self, parts: Parts):
        self.parts = parts
        self.faults = Faults()
        self.keys = IdempotencyKeys()
        self.routes = Map([Rule(path, methods=[method], endpoint=handler) for method, path, handler in ROUTES])

    def __call__(self, environ, start_response):
        request = Request(environ)
        request.max_content_length = MAX_BODY
        request.max_form_parts = MAX_FORM_PARTS
        try:
            response = self.dispatch(request)
        except Exception:  # a bug here must still answer as Stripe would, and say what happened on stderr
            traceback.print_exc(file=sys.stderr)
            response = _error_response(api_error(), new_id("req", 14))
        response.headers.setdefault("Request-Id", new_id("req", 14))  # the controls and the 3DS page too
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith("/_emulator/"):
            return self.control(request)
        if request.path.startswith("/3ds/"):
            return three_ds.page(self.parts, request)
        if request.method == "OPTIONS":
            return Response(status=200, headers=CORS)
        request_id = new_id("req", 14)
        try:
            return self.api(request, request_id)
        except StripeError as error:
            return _error_response(error, request_id)

    # -- the API -------------------------------------------------------------------------------------------------------

    def api(self, request: Request, request_id: str) -> Response:
        if self.faults.fail_now(request.path):
            raise api_error()
        handler, arguments = self._route(request)
        pairs = self._pairs(request)
        api_key, publishable = _authenticate(request, pairs, handler)
        if handler is None:
            raise not_found_route(request.method, request.path)
        if publishable and handler not in PUBLISHABLE_ALLOWED:
            raise StripeError(403, "invalid_request_error", PUBLISHABLE_REFUSED)  # the SDK's PermissionError
        if handler in PUBLISHABLE_ALLOWED:
            pairs = [(name, value) for name, value in pairs if name != "key"]  # Stripe.js's key, read above
        params = nest(pairs)
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        if key is not None:
            fingerprint = (request.method, request.path, tuple(sorted(pairs)))
            try:
                self.keys.reserve(api_key, key, fingerprint, request_id)
            except Replay as replay:
                return _json_response(replay.saved.status, replay.saved.body, request_id, {
                    "Idempotent-Replayed": "true", "Original-Request": replay.saved.request_id,
                    "Idempotency-Key": key})
            except Conflict as conflict:
                raise conflict.error from None
        call = Call(self.parts, request_id, key, _host_url(request), publishable)
        status, body, saved = self._run(call, handler, params, arguments, request.path)
        if key is not None:
            self.keys.finish(api_key, key, status, body) if saved else self.keys.release(api_key, key)
        response = _json_response(status, body, request_id, {"Idempotency-Key": key} if key else {})
        return self._maybe_lose(call, request, response)

    def _route(self, request: Request) -> tuple[Endpoint | None, dict]:
        try:
            return self.routes.bind_to_environ(request.environ).match()
        except (NotFound, MethodNotAllowed):
            return None, {}

    @staticmethod
    def _pairs(request: Request) -> list[tuple[str, str]]:
        try:
            pairs = list(request.args.items(multi=True))
            if request.method in ("POST", "DELETE"):
                pairs += list(request.form.items(multi=True))
        except HTTPException as refused:
            raise ParamError(refused.code or 400, "invalid_request_error",
                             f"The request could not be read: {refused.description}") from None
        if len(pairs) > MAX_FORM_PARTS:
            raise ParamError(400, "invalid_request_error", f"A request can carry at most {MAX_FORM_PARTS} parameters.")
        return pairs

    def _run(self, call: Call, handler: Endpoint, params: dict, arguments: dict, path: str) -> tuple[int, bytes, bool]:
        """The endpoint's answer as (status, JSON body, whether its idempotency key keeps it)."""
        latency = self.faults.latency(path)
        if latency:
            time.sleep(latency)  # the request is in flight meanwhile, holding its idempotency key
        state = self.parts.state
        with state.lock:
            try:
                status, body = handler(call, params, **arguments)
                return status, _dumps(body), True
            except ParamError as error:
                return error.status, _dumps(error.body()), False
            except StripeError as error:
                return error.status, _dumps(error.body()), True
            except Exception:  # a bug: answered as Stripe's api_error, and its key freed for a retry
                traceback.print_exc(file=sys.stderr)
                return 500, _dumps(api_error().body()), False

    def _maybe_lose(self, call: Call, request: Request, response: Response) -> Response:
        """The timeout_after_charge fault: the charge is done and saved; its answer never arrives."""
        if not call.charged:
            return response
        mode = self.faults.lose_answer(request.path)
        if mode == "hang":
            time.sleep(self.faults.shown()["hang_seconds"])
        elif mode == "drop":
            request.environ["emulator.drop_connection"]()
        return response

    # -- /_emulator/: controls for tests -------------------------------------------------------------------------------

    def control(self, request: Request) -> Response:
        action = (request.method, request.path)
        try:
            if action == ("POST", "/_emulator/faults"):
                self.faults.set(parse_faults(request.get_json(silent=True)))
                return _plain_json(200, self.faults.shown())
            if action == ("GET", "/_emulator/faults"):
                return _plain_json(200, self.faults.shown())
            if action == ("POST", "/_emulator/reset"):
                self.reset()
                return _plain_json(200, {"reset": True})
            if action == ("GET", "/_emulator/stats"):
                return _plain_json(200, self.stats())
            if action == ("GET", "/_emulator/health"):
                return _plain_json(200, {"ok": True})
        except StripeError as error:
            return _plain_json(error.status, error.body())
        return _plain_json(404, not_found_route(request.method, request.path).body())

    def reset(self) -> None:
        self.faults.set(Settings())
        self.keys.clear()
        self.parts.webhooks.clear()
        self.parts.state.reset()

    def stats(self) -> dict:
        state = self.parts.state
        with state.lock:
            counted = dict(state.stats)
            objects = {kind: len(table) for kind, table in state.objects.items()}
        names = ("payment_intents", "confirmations", "charges", "declines", "captures", "cancellations", "refunds",
                 "events", "webhook_deliveries", "webhook_failures", "webhook_abandoned")
        return {**{name: counted.get(name, 0) for name in names}, "objects": objects,
                "idempotent_requests_in_flight": self.keys.in_flight()}


def _authenticate(request: Request, pairs: list[tuple[str, str]], handler) -> tuple[str, bool]:
    """The API key (Bearer, Basic, or Stripe.js's `key` parameter) and whether it is a publishable one."""
    header = request.headers.get("Authorization", "")
    key = ""
    if header.startswith("Bearer "):
        key = header.removeprefix("Bearer ").strip()
    elif header.startswith("Basic "):
        try:
            key = base64.b64decode(header.removeprefix("Basic ").strip(), validate=True).decode().split(":")[0]
        except (binascii.Error, UnicodeDecodeError, ValueError):
            key = "?"
    elif handler in PUBLISHABLE_ALLOWED:
        key = next((value for name, value in pairs if name == "key"), "")
    if not key:
        raise authentication(NO_KEY)
    if SECRET_KEY.match(key):
        return key, False
    if PUBLISHABLE_KEY.match(key):
        return key, True
    shown = key[:8] + "*" * max(0, min(len(key), 40) - 12) + key[-4:] if len(key) > 12 else "*" * min(len(key), 12)
    raise authentication(f"Invalid API Key provided: {shown}")


def _host_url(request: Request) -> str:
    """The emulator's address as this client reached it (werkzeug's host_url costs more than a request's work)."""
    host = request.environ.get("HTTP_HOST") or f"{request.environ['SERVER_NAME']}:{request.environ['SERVER_PORT']}"
    return f"http://{host}/"


def _dumps(body: dict) -> bytes:
    return json.dumps(body).encode()  # no indent: only the compact form has the C encoder


def _json_response(status: int, body: bytes, request_id: str, extra: dict) -> Response:
    headers = {"Request-Id": request_id, "Stripe-Version": API_VERSION, "Cache-Control": "no-cache, no-store",
               **CORS, **extra}
    return Response(body, status=status, headers=headers, content_type="application/json")


def _error_response(error: StripeError, request_id: str) -> Response:
    extra = {"Stripe-Should-Retry": "false"} if error.status == 401 else {}
    return _json_response(error.status, _dumps(error.body()), request_id, extra)


def _plain_json(status: int, body: dict) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
