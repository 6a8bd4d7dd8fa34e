"""Directory operations a merchant performs on a store: finding the stores
and memberships of an account, and the store's own settings. Custom domains
live in tenants.domains and staff in tenants.staff. Every write takes the
acting membership and checks its role."""
from __future__ import annotations

import sqlalchemy as sa

from app.effects import after_commit
from app.extensions import db
from app.money import is_locale
from tenants.errors import DirectoryError, DirectoryErrorCode as Code, Forbidden, NotFound
from tenants.extension import state
from tenants.models import Account, Membership, Store
from tenants.provisioning import validate_currency, validate_name

MANAGERS = ("owner", "admin")


def stores_for(account: Account) -> list[tuple[Store, str]]:
    rows = db.session.execute(
        sa.select(Store, Membership.role).join(Membership).where(Membership.account_id == account.id)
        .order_by(Store.name, Store.id)
    ).all()
    return [(store, role) for store, role in rows]


def membership(account: Account, store_id: int) -> Membership:
    """The account's membership of a store; NotFound (never a hint) otherwise."""
    found = db.session.get(Membership, (account.id, store_id))
    if found is None:
        raise NotFound("No such store.")
    return found


def membership_by_handle(account: Account, handle: str) -> Membership:
    found = db.session.scalar(
        sa.select(Membership).join(Store).where(Store.handle == handle, Membership.account_id == account.id)
    )
    if found is None:
        raise NotFound("No such store.")
    return found


def require_manager(member: Membership) -> None:
    if member.role not in MANAGERS:
        raise Forbidden("Only the store's owner or an admin can do that.")


def validate_locale(locale: str) -> str:
    locale = (locale or "").strip()
    if not is_locale(locale):
        raise DirectoryError(Code.INVALID, "Choose an amount format from the list.", "locale")
    return locale


def update_store(member: Membership, *, name: str, currency: str, locale: str | None = None) -> Store:
    """Name, currency and (unless None) the locale amounts are shown and typed in.
    Placements carry all three, so the host cache is dropped."""
    require_manager(member)
    store = member.store
    name, currency = validate_name(name), validate_currency(currency)
    locale = store.locale if locale is None else validate_locale(locale)
    store.name, store.currency, store.locale = name, currency, locale
    after_commit(state().resolver.invalidate)
    db.session.commit()
    return store
