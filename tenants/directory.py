"""Directory operations a merchant performs: store settings, custom domains
and staff. Every function takes the acting account and checks its role."""
from __future__ import annotations

import ipaddress

import sqlalchemy as sa

from app.extensions import db
from tenants.errors import DirectoryError, DirectoryErrorCode as Code, Forbidden, NotFound
from tenants.extension import state
from tenants.models import Account, Domain, Membership, Store
from tenants.provisioning import validate_currency, validate_name
from tenants.resolver import BadHost, normalize_host

MANAGERS = ("owner", "admin")
MAX_DOMAINS = 20


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


def update_store(member: Membership, *, name: str, currency: str) -> Store:
    require_manager(member)
    store = member.store
    store.name, store.currency = validate_name(name), validate_currency(currency)
    db.session.commit()
    state().resolver.invalidate()
    return store


def validate_domain(hostname: str) -> str:
    try:
        host = normalize_host(hostname)
    except BadHost:
        raise DirectoryError(Code.INVALID, "Enter a hostname like shop.example.com, without http:// or a path.",
                             "hostname") from None
    platform = state().platform_host
    if host == platform or host.endswith("." + platform):
        raise DirectoryError(Code.RESERVED, f"Hostnames under {platform} are managed by Vitrine.", "hostname")
    if "." not in host or _is_ip(host):
        raise DirectoryError(Code.INVALID, "Enter a full domain name such as shop.example.com.", "hostname")
    return host


def add_domain(member: Membership, hostname: str) -> Domain:
    require_manager(member)
    host = validate_domain(hostname)
    if db.session.scalar(sa.select(Domain.id).where(Domain.hostname == host)) is not None:
        raise DirectoryError(Code.TAKEN, f"{host} is already connected to a store.", "hostname")
    count = db.session.scalar(sa.select(sa.func.count(Domain.id)).where(Domain.store_id == member.store_id))
    if count >= MAX_DOMAINS:
        raise DirectoryError(Code.CONFLICT, f"A store can have at most {MAX_DOMAINS} domains.", "hostname")
    domain = Domain(hostname=host, store_id=member.store_id)
    db.session.add(domain)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise DirectoryError(Code.TAKEN, f"{host} is already connected to a store.", "hostname") from None
    state().resolver.invalidate()
    return domain


def remove_domain(member: Membership, domain_id: int) -> str:
    require_manager(member)
    domain = db.session.get(Domain, domain_id)
    if domain is None or domain.store_id != member.store_id:
        raise NotFound("No such domain on this store.")
    hostname = domain.hostname
    db.session.delete(domain)
    db.session.commit()
    state().resolver.invalidate()
    return hostname


def add_member(member: Membership, email: str, role: str) -> Membership:
    require_manager(member)
    if role not in ("admin", "staff"):
        raise DirectoryError(Code.INVALID, "Role must be admin or staff.", "role")
    account = db.session.scalar(sa.select(Account).where(Account.email == (email or "").strip().lower()))
    if account is None:
        raise DirectoryError(Code.NOT_FOUND, "No Vitrine account uses that email. Ask them to sign up first.",
                             "email")
    if db.session.get(Membership, (account.id, member.store_id)) is not None:
        raise DirectoryError(Code.TAKEN, f"{account.email} is already on this store's staff.", "email")
    added = Membership(account_id=account.id, store_id=member.store_id, role=role)
    db.session.add(added)
    db.session.commit()
    return added


def remove_member(member: Membership, account_id: int) -> str:
    require_manager(member)
    target = db.session.get(Membership, (account_id, member.store_id))
    if target is None:
        raise NotFound("No such staff member.")
    if target.role == "owner":
        raise Forbidden("The store owner cannot be removed.")
    email = target.account.email
    db.session.delete(target)
    db.session.commit()
    return email


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
