"""Which cart a request is about: the web edge that the storefront and the
JSON API share.

A logged-in customer's cart is theirs (it follows them across devices);
anyone else's cart is named by a signed token, kept in a cookie by the
storefront or sent as X-Cart-Token by API clients. The token is re-issued
on every cart request, so it lapses 48 hours after the cart was last used.
"""
from __future__ import annotations

from flask import abort, g, request
from werkzeug.wrappers import Response

from app.cart import tokens
from app.cart.errors import CartError
from app.cart.storage import GUEST_TTL, Owner, new_guest_ident
from app.customers.sessions import current_customer

COOKIE = "vitrine_cart"
HEADER = "X-Cart-Token"


def request_owner(*, create: bool) -> Owner | None:
    """The request's cart owner; a new guest when `create` and there is none
    yet. A token that is forged, expired or another store's is a 400."""
    store = g.store
    customer = current_customer()
    if customer is not None:
        owner = Owner.customer(store.id, customer.id)
    elif token := request.headers.get(HEADER) or request.cookies.get(COOKIE):
        owner = tokens.read(token, store.id)
    elif create:
        owner = Owner.guest(store.id, new_guest_ident())
        g.cart_started = True
    else:
        owner = None
    g.cart_owner = owner
    return owner


def guest_owner() -> Owner | None:
    """The guest cart named by the request's cookie, whoever is logged in
    (the login view merges it into the customer's), or None."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        return tokens.read(token, g.store.id)
    except CartError:
        return None


def current_token() -> str | None:
    """A fresh token for the request's guest cart (None for a customer's or no cart)."""
    owner = g.get("cart_owner")
    if owner is None or owner.kind != "guest":
        return None
    if "cart_token" not in g:
        g.cart_token = tokens.issue(owner)
    return g.cart_token


def keep_token(response: Response, *, refused: bool = False) -> Response:
    """Send the guest's token again (cookie and header), so the cart lives on.
    A cart this request started holds nothing when its first change was
    `refused`: no token for it (a sold-out answer stays cheap)."""
    if refused and g.get("cart_started"):
        return response
    if token := current_token():
        response.set_cookie(COOKIE, token, max_age=GUEST_TTL, httponly=True, samesite="Lax",
                            secure=request.is_secure, path="/")
        response.headers[HEADER] = token
    return response


def forget_token(response: Response) -> Response:
    """After a bad token: the next request starts a new cart instead of failing again."""
    response.delete_cookie(COOKIE, path="/")
    return response


def refuse_cross_site() -> None:
    """Cart forms carry no CSRF token (they sit on cached pages shared by all
    shoppers); the cookie is SameSite=Lax, and a browser's word that the
    request came from another site is a 403."""
    origin = request.headers.get("Origin")
    if request.headers.get("Sec-Fetch-Site") == "cross-site" or (
            origin and origin != "null" and origin.rstrip("/") != request.host_url.rstrip("/")):
        abort(403, description="Cart changes come from the shop's own pages.")
