"""The emulator's 3-D Secure page: where `next_action.redirect_to_url.url`
sends the shopper. "Complete" authorizes the payment, "Fail" fails it; both
then redirect to the return_url with payment_intent, its client secret and
redirect_status, as Stripe does."""
from __future__ import annotations

import hmac
from html import escape
from urllib.parse import urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request, Response

from app.payments.emulator import intents
from app.payments.emulator.context import Call, Parts
from app.payments.emulator.currencies import shown

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>3D Secure test payment</title></head>
<body><main>
<h1>3D Secure test payment</h1>
<p>{amount} {currency} to pay with the card ending in {last4}. This is the emulator's test page: choose an outcome.</p>
<form method="post" action="/3ds/{intent_id}">
<input type="hidden" name="token" value="{token}">
<button type="submit" name="outcome" value="complete">Complete</button>
<button type="submit" name="outcome" value="fail">Fail</button>
</form>
</main></body></html>
"""
DONE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>3D Secure test payment</title></head>
<body><main><h1>{title}</h1><p>{message}</p></main></body></html>
"""


def page(parts: Parts, request: Request) -> Response:
    intent_id = request.path.removeprefix("/3ds/").strip("/")
    if request.method == "GET":
        return _show(parts, intent_id, request.args.get("token", ""))
    if request.method == "POST":
        return _decide(parts, request, intent_id)
    return _done(405, "Not allowed", "This page takes GET and POST only.")


def _pending(parts: Parts, intent_id: str, token: str) -> dict | None:
    """The PaymentIntent waiting for this page's answer, if the token is its current one (state lock held)."""
    intent = parts.state.table("payment_intents").get(intent_id)
    pending = parts.state.three_ds.get(intent_id)
    if intent is None or pending is None or intent["status"] != "requires_action":
        return None
    return intent if hmac.compare_digest(pending["token"].encode(), token.encode()) else None


def _show(parts: Parts, intent_id: str, token: str) -> Response:
    with parts.state.lock:
        intent = _pending(parts, intent_id, token)
        if intent is None:
            return _done(404, "Nothing to authenticate", "This authentication page is no longer valid.")
        method = parts.state.table("payment_methods")[intent["payment_method"]]
        html = PAGE.format(amount=escape(shown(intent["amount"], intent["currency"])),
                           currency=escape(intent["currency"].upper()), last4=escape(method["card"]["last4"]),
                           intent_id=escape(intent_id), token=escape(token))
    return Response(html, content_type="text/html; charset=utf-8")


def _decide(parts: Parts, request: Request, intent_id: str) -> Response:
    outcome = request.form.get("outcome", "")
    if outcome not in ("complete", "fail"):
        return _done(400, "Choose an outcome", "Press Complete or Fail.")
    with parts.state.lock:
        intent = _pending(parts, intent_id, request.form.get("token", ""))
        if intent is None:
            return _done(404, "Nothing to authenticate", "This authentication page is no longer valid.")
        return_url = parts.state.three_ds[intent_id]["return_url"]
        call = Call(parts, request_id=None, idempotency_key=None, host_url=request.host_url)
        if outcome == "complete":
            method = parts.state.table("payment_methods")[intent["payment_method"]]
            intents.authorize(call, intent, method)
        else:
            intents.fail_authentication(call, intent)
        client_secret = intent["client_secret"]
    status = "succeeded" if outcome == "complete" else "failed"
    if not return_url:
        return _done(200, f"Authentication {status}", "You may close this page.")
    return Response(status=303, headers={"Location": _with_query(return_url, {
        "payment_intent": intent_id, "payment_intent_client_secret": client_secret, "redirect_status": status})})


def _with_query(url: str, values: dict) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(values)]))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _done(status: int, title: str, message: str) -> Response:
    return Response(DONE.format(title=escape(title), message=escape(message)), status=status,
                    content_type="text/html; charset=utf-8")
