"""Customer sessions: who is logged in to this store's storefront.

Flask's (signed) session holds {"store": store id, "id": customer id, "v":
session_version} under "customer". A request has a customer only when that
store is the store of the request's host and the version is the account's
current one: an account of one store never works at another (even were the
cookie sent to another store's host), a password reset ends every session
(it bumps the version), and a merchant's dashboard log-in (Flask-Login, on
the platform host) counts for nothing here.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import g, session

from app.customers import service, wishlist
from app.customers.models import Customer

KEY = "customer"
_UNSET = object()


@dataclass(frozen=True)
class CustomerView:
    """What storefront templates see of the logged-in customer."""

    name: str
    email: str
    saved: frozenset[int]  # ids of the products on their wishlist


def log_in(customer: Customer) -> None:
    """A fresh session (nothing from before carries over: no fixation) for this customer of this store."""
    session.clear()
    session[KEY] = {"store": int(customer.store_id), "id": int(customer.id), "v": int(customer.session_version)}
    g.customer = customer


def log_out() -> None:
    session.clear()
    g.customer = None


def current_customer() -> Customer | None:
    """The logged-in customer of the current store, or None (once per request)."""
    found = g.get("customer", _UNSET)
    if found is _UNSET:
        found = g.customer = _from_session()
    return found


def _from_session() -> Customer | None:
    stored, store = session.get(KEY), g.get("store")
    if store is None or not isinstance(stored, dict) or stored.get("store") != store.id:
        return None  # another store's session is left alone: it is theirs, not ours to end
    customer_id, version = stored.get("id"), stored.get("v")
    if not isinstance(customer_id, int) or not isinstance(version, int):
        session.pop(KEY, None)
        return None
    customer = service.get(customer_id)
    if customer is None or customer.session_version != version:
        session.pop(KEY, None)  # ended (password reset) or deleted: the page is no longer personal
        return None
    return customer


def customer_view() -> CustomerView | None:
    """The customer as templates see them (Site.context), or None."""
    customer = current_customer()
    if customer is None:
        return None
    return CustomerView(customer.name, customer.email, frozenset(wishlist.product_ids(customer.id)))
