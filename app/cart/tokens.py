"""Guest cart tokens: the cart's random id, signed for one store.

The storefront keeps the token in a cookie; API clients send it as
X-Cart-Token. A token is re-issued on activity, so it lapses 48 hours after
the cart was last used, like the cart itself.
"""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.cart.errors import CartError, CartErrorCode
from app.cart.storage import GUEST_TTL, Owner

_SALT = "vitrine.cart"
MAX_TOKEN_LENGTH = 200


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=_SALT)


def issue(owner: Owner) -> str:
    return _serializer().dumps([owner.store_id, owner.ident])


def read(token: str, store_id: int) -> Owner:
    """The guest cart a token names, or a 400 (forged, expired, or another store's)."""
    refused = CartError(CartErrorCode.BAD_TOKEN, "This cart is not valid any more (it expired or was not issued "
                        "by this store). A new cart has been started: add the items again.", status=400)
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise refused
    try:
        found_store, ident = _serializer().loads(token, max_age=GUEST_TTL)
    except (BadSignature, ValueError, TypeError):
        raise refused from None
    if found_store != store_id or not isinstance(ident, str) or not 10 <= len(ident) <= 40:
        raise refused
    return Owner.guest(store_id, ident)
