"""Launches on the storefront: the waiting room and the draw page, joining,
entering, a winner's pass, and the `launch` object of the product page.

These pages are personal (a shopper's place, their pass) and never cached
(`private, no-store`). The room page polls itself with htmx (the status
block swaps in place every few seconds); without JavaScript it says when
to reload and has a button that does. An admitted shopper's pass goes into
the `vitrine_pass` cookie (app.launches.passes), which the cart hands to
`check_admission`; a request carrying it is personal for the page cache
too, so the product page shows them the buy area rather than the line.
"""
from __future__ import annotations

import secrets
from urllib.parse import quote

from flask import Response, abort, redirect, request

from app.customers.sessions import current_customer
from app.domain_errors import DomainError
from app.launches import draw, passes, room
from app.launches.passes import PASS_COOKIE
from app.launches.service import LaunchError, LaunchInfo, live_launch, utcnow, verify_pass
from app.platform.auth import client_address
from app.platform.tokens import well_formed
from app.ratelimit import RateLimited
from app.storefront import bp
from app.storefront.personal import personal_page, private, shop_site
from app.storefront.launch_view import when as _when

LINE_COOKIE = "vitrine_line"  # an anonymous shopper's name in a line (random; one place per name)
LINE_MAX_AGE = 7 * 24 * 3600
POLL_SECONDS = 5


# -- pages ------------------------------------------------------------------------------------------------------------

def _launch(launch_id: int) -> LaunchInfo:
    info = live_launch(launch_id)
    if info is None:
        abort(404)
    return info


def _holders() -> list[str]:
    names = []
    customer = current_customer()
    if customer is not None:
        names.append(f"c:{customer.id}")
    visitor = request.cookies.get(LINE_COOKIE, "")
    if well_formed(visitor):
        names.append(f"v:{visitor}")
    return names


def _page(template: str, info: LaunchInfo, status: int = 200, **page) -> Response:
    return personal_page(template, status, page_title=info.product_title, launch=_page_view(info),
                         product_url=shop_site().routes.product(info.product_handle), poll_seconds=POLL_SECONDS,
                         **page)


def _page_view(info: LaunchInfo) -> dict:
    return {"id": info.id, "kind": info.kind, "status": info.status, "url": info.url, "title": info.product_title,
            "starts_at": _when(info.starts_at), "entry_ends_at": _when(info.entry_ends_at),
            "ends_at": _when(info.ends_at), "pass_minutes": info.pass_minutes, "winners": info.winners}


@bp.get("/launches/<id:launch_id>")
def launch_page(launch_id: int):
    info, now = _launch(launch_id), utcnow()
    if info.kind == "draw":
        return _draw_page(info, now)
    state = room.state(info, room.ticket_of(info, _holders()) if _holders() else None, now)
    template = "snippets/launch_room.html" if request.headers.get("HX-Request") else "launch.html"
    response = _page(template, info, room=_room_view(state), error=None)
    return _with_pass(response, state)


def _room_view(state: room.RoomState) -> dict:
    return {"phase": state.phase, "ticket": state.ticket.number if state.ticket else None,
            "position": state.position, "wait_seconds": state.wait_seconds,
            "wait_minutes": -(-state.wait_seconds // 60), "admitted_at": _when(state.ticket.admitted_at)
            if state.ticket else "", "pass_expires_at": _when(state.pass_expires_at)}


def _with_pass(response: Response, state: room.RoomState) -> Response:
    if state.pass_token:
        seconds = max(1, int((state.pass_expires_at - utcnow()).total_seconds()))
        response.set_cookie(PASS_COOKIE, state.pass_token, max_age=seconds, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    return response


@bp.post("/launches/<id:launch_id>/join")
def join_line(launch_id: int):
    info, now = _launch(launch_id), utcnow()
    if info.kind != "queue":
        abort(404)
    holders, visitor = _holders(), None
    if not holders:
        visitor = secrets.token_urlsafe(32)
        holders = [f"v:{visitor}"]
    try:
        room.join(info, holders, client_address(), now)
    except RateLimited as limited:
        return _refused(info, now, f"Too many places taken from your network. Try again in {limited.retry_after} "
                        "seconds.", 429, {"Retry-After": str(limited.retry_after)})
    except LaunchError as error:
        return _refused(info, now, error.message, error.status)
    response = private(redirect(info.url, 303))
    if visitor:
        response.set_cookie(LINE_COOKIE, visitor, max_age=LINE_MAX_AGE, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    return response


def _refused(info: LaunchInfo, now, message: str, status: int, headers: dict | None = None) -> Response:
    if info.kind == "draw":
        response = _draw_page(info, now, error=message, status=status)
    else:
        state = room.state(info, room.ticket_of(info, _holders()) if _holders() else None, now)
        response = _page("launch.html", info, status, room=_room_view(state), error=message)
    response.headers.update(headers or {})
    return response


# -- the draw ---------------------------------------------------------------------------------------------------------

def _draw_page(info: LaunchInfo, now, error: str | None = None, status: int = 200, **extra) -> Response:
    customer = current_customer()
    entry = draw.entry_of(info.id, customer.id) if customer is not None else None
    phase = ("ended" if not info.governs(now) else "drawn" if info.status == "drawn"
             else "not_open" if now < info.starts_at else "open" if now < info.entry_ends_at else "closed")
    return _page("launch.html", info, status, error=error, draw={
        "phase": phase, "entered": entry is not None, "status": entry.status if entry else None,
        "pass_expires_at": _when(entry.pass_expires_at) if entry else "", "logged_in": customer is not None,
        "login_url": shop_site().routes.account("login") + "?next=" + quote(info.url, safe="/")}, **extra)


@bp.post("/launches/<id:launch_id>/enter")
def enter_draw(launch_id: int):
    info, now = _launch(launch_id), utcnow()
    if info.kind != "draw":
        abort(404)
    customer = current_customer()
    if customer is None:
        return _refused(info, now, "Log in to enter the draw: one entry per customer.", 403)
    try:
        draw.enter(info, customer.id, now)
    except LaunchError as error:
        return _refused(info, now, error.message, error.status)
    return private(redirect(info.url, 303))


@bp.route("/launches/<id:launch_id>/pass", methods=["GET", "POST"])
def draw_pass(launch_id: int):
    """A winner's mailed link: a page with a button (a mail scanner's GET claims nothing), which takes the pass up."""
    info, now = _launch(launch_id), utcnow()
    token = str(request.values.get("token", ""))[:passes.MAX_TOKEN + 1]
    customer = current_customer()
    if request.method == "GET":
        return _pass_page(info, token, now, customer is not None, None, 200)
    if customer is None:
        return _pass_page(info, token, now, False, "Log in as the customer who entered to use this pass.", 403)
    try:
        draw.claim(info, token, customer.id, now)
    except DomainError as error:
        return _pass_page(info, token, now, True, error.message, error.status)
    held = passes.read(token)
    response = private(redirect(shop_site().routes.product(info.product_handle), 303))
    response.set_cookie(PASS_COOKIE, token, max_age=max(1, int((held.expires_at - now).total_seconds())),
                        httponly=True, samesite="Lax", secure=request.is_secure)
    return response


def _pass_page(info: LaunchInfo, token: str, now, logged_in: bool, error: str | None, status: int) -> Response:
    try:
        held = verify_pass(info, token, now)
        valid, until = True, _when(held.expires_at)
    except LaunchError as refused:
        valid, until, error = False, "", error or refused.message
        status = status if status != 200 else 403
    back = quote(f"{info.url}/pass?token={token}", safe="/")
    return _page("launch_pass.html", info, status, token=token if valid else "", valid=valid, until=until,
                 logged_in=logged_in, error=error, login_url=shop_site().routes.account("login") + "?next=" + back)
