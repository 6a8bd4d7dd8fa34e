"""The product page's `launch` object: the launch that governs the product
now and whether this shopper holds a valid pass for it (app.launches)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import request

from app.launches import passes
from app.launches.passes import PASS_COOKIE, PASS_HEADER
from app.launches.service import LaunchError, LaunchInfo, governing, utcnow, verify_pass


def when(moment) -> str:
    return moment.strftime("%d %b %Y, %H:%M UTC") if moment else ""


@dataclass(frozen=True)
class LaunchView:
    """The product page's `launch` (themes/README.md): what governs the product, and whether this shopper may buy."""

    kind: str  # "queue" or "draw"
    status: str  # scheduled, closed (sold out), drawn
    url: str  # the waiting room or the draw
    starts_at: str  # "01 Dec 2026, 19:00 UTC": the line opens / entries open
    entry_ends_at: str  # draw: entries close
    ends_at: str
    admitted: bool  # this shopper holds a valid pass: show the buy area
    pass_expires_at: str


def product_launch(product_id: int, routes_prefix: str = "") -> LaunchView | None:
    """The launch governing the product now, as the product page sees it (no query while the cache holds)."""
    now = utcnow()
    info = governing(product_id, now)
    if info is None:
        return None
    token = request_pass()
    held = passes.read(token)
    admitted = held is not None and _valid(info, token, now)
    return LaunchView(info.kind, info.status, routes_prefix + info.url, when(info.starts_at),
                      when(info.entry_ends_at), when(info.ends_at), admitted,
                      when(held.expires_at) if admitted else "")


def _valid(info: LaunchInfo, token, now) -> bool:
    try:
        verify_pass(info, token, now)
    except LaunchError:
        return False
    return True


def request_pass() -> str | None:
    """The pass the request carries: the storefront's cookie, or an API client's X-Launch-Pass header.
    What the cart hands to app.launches.service.check_admission."""
    return request.cookies.get(PASS_COOKIE) or request.headers.get(PASS_HEADER) or None
