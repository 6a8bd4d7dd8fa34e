"""A store's custom domains."""
from __future__ import annotations

import ipaddress

import sqlalchemy as sa

from app.extensions import db
from tenants.directory import require_manager
from tenants.errors import DirectoryError, DirectoryErrorCode as Code, NotFound
from tenants.extension import state
from tenants.models import Domain, Membership
from tenants.resolver import BadHost, normalize_host

MAX_DOMAINS = 20


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


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
