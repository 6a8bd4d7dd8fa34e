"""A store's custom domains: which names may be connected, connecting and
removing them, and what DNS record proves a merchant controls one.

A domain is added `pending` and answers for its store only once a DNS check
(tenants.domain_jobs) finds the proof: a TXT record
`_vitrine-challenge.<host>` holding `vitrine-verification=<token>`, or a
CNAME of the host to the store's own `<handle>.<PLATFORM_HOST>`.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from publicsuffixlist import PublicSuffixList

from app.effects import after_commit, emit
from app.effects.models import PlatformOutbox
from app.extensions import db
from app.store import service as store_service
from tenants.context import activate, deactivate
from tenants.directory import require_manager
from tenants.errors import DirectoryError, DirectoryErrorCode as Code, NotFound
from tenants.extension import state
from tenants.models import Domain, Membership
from tenants.resolver import BadHost, normalize_host

MAX_DOMAINS = 20
CHECK_TOPIC = "domain.check"
CHALLENGE_PREFIX = "_vitrine-challenge"
PROOF_PREFIX = "vitrine-verification="

# Services whose names stand for IP addresses (127.0.0.1.nip.io, 10-0-0-1.sslip.io,
# anything.localtest.me -> 127.0.0.1): nobody can prove such a name is theirs.
WILDCARD_DNS_SERVICES = frozenset("""
    nip.io sslip.io xip.io nip.direct traefik.me backname.io localtest.me lvh.me vcap.me
    lacolhost.com localhost.direct fuf.me yoogle.com ulh.us
""".split())
_OCTET = r"0*(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_DOTTED_QUAD = re.compile(rf"(^|\.){_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}(\.|$)")
_DASHED_QUAD = re.compile(rf"(^|-){_OCTET}-{_OCTET}-{_OCTET}-{_OCTET}(-|$)")
_NUMERIC_LABEL = re.compile(r"^([0-9]+|0x[0-9a-f]*)$")


@cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()  # ICANN and private sections: github.io is as public as co.uk


def validate_domain(hostname: str) -> str:
    """A lower-case hostname a merchant could own, or a DirectoryError saying why not."""
    try:
        host = normalize_host(hostname)
    except BadHost:
        raise DirectoryError(Code.INVALID, "Enter a hostname like shop.example.com, without http:// or a path.",
                             "hostname") from None
    platform = state().platform_host
    if host == platform or host.endswith("." + platform):
        raise DirectoryError(Code.RESERVED, f"Hostnames under {platform} are managed by Vitrine.", "hostname")
    if "." not in host or _looks_like_an_address(host):
        raise DirectoryError(Code.INVALID, "Enter a full domain name such as shop.example.com, "
                             "not an IP address or a name that stands for one.", "hostname")
    suffixes = _suffixes()
    if suffixes.publicsuffix(host, accept_unknown=False) is None:
        tld = host.rsplit(".", 1)[1]
        raise DirectoryError(Code.INVALID, f"“.{tld}” is not a top-level domain on the internet: "
                             "enter a full domain name such as shop.example.com.", "hostname")
    if suffixes.is_public(host):
        raise DirectoryError(Code.INVALID, f"{host} is a public suffix, shared by many owners (like co.uk or "
                             "github.io): enter a name under it that is yours.", "hostname")
    return host


def _looks_like_an_address(host: str) -> bool:
    labels = host.split(".")
    if _NUMERIC_LABEL.match(labels[-1]) or _DOTTED_QUAD.search(host) or _under_wildcard_service(host):
        return True
    if any(_DASHED_QUAD.search(label) for label in labels):
        return True
    try:
        socket.inet_aton(host)  # what C resolvers take for an address: "127.1", "0x7f.1", "2130706433"
        return True
    except OSError:
        pass
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _under_wildcard_service(host: str) -> bool:
    labels = host.split(".")
    return any(".".join(labels[i:]) in WILDCARD_DNS_SERVICES for i in range(len(labels)))


def add_domain(member: Membership, hostname: str, *, actor: str) -> Domain:
    """Connect `hostname` to the member's store, pending until DNS proves it;
    its first check runs once this commits."""
    require_manager(member)
    host = validate_domain(hostname)
    if db.session.scalar(sa.select(Domain.id).where(Domain.hostname == host)) is not None:
        raise DirectoryError(Code.TAKEN, f"{host} is already connected to a store.", "hostname")
    count = db.session.scalar(sa.select(sa.func.count(Domain.id)).where(Domain.store_id == member.store_id))
    if count >= MAX_DOMAINS:
        raise DirectoryError(Code.CONFLICT, f"A store can have at most {MAX_DOMAINS} domains.", "hostname")
    domain = Domain(hostname=host, store_id=member.store_id, status="pending")
    db.session.add(domain)
    store_service.record(actor, "domain.added", f"Connected {host}")
    try:
        db.session.flush()
        _schedule_check(domain.id)
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise DirectoryError(Code.TAKEN, f"{host} is already connected to a store.", "hostname") from None
    return domain


def request_check(member: Membership, domain_id: int) -> Domain:
    """"Check now": look at the domain's DNS again, in a job, once this commits."""
    require_manager(member)
    domain = _own_domain(member, domain_id)
    waiting = db.session.scalar(sa.select(PlatformOutbox.id).where(
        PlatformOutbox.topic == CHECK_TOPIC, PlatformOutbox.payload.contains({"domain_id": domain.id})).limit(1))
    if waiting is None:  # pressing the button again while a check waits adds no lookups
        _schedule_check(domain.id)
        db.session.commit()
    return domain


def remove_domain(member: Membership, domain_id: int, *, actor: str) -> str:
    require_manager(member)
    domain = _own_domain(member, domain_id)
    hostname = domain.hostname
    db.session.delete(domain)
    store_service.record(actor, "domain.removed", f"Disconnected {hostname}")
    after_commit(invalidate_hosts)
    db.session.commit()
    return hostname


def _own_domain(member: Membership, domain_id: int) -> Domain:
    domain = db.session.get(Domain, domain_id)
    if domain is None or domain.store_id != member.store_id:
        raise NotFound("No such domain on this store.")
    return domain


def _schedule_check(domain_id: int) -> None:
    """Record the check in the platform's outbox: the domain is a directory
    row, so its effect belongs in the same (directory) transaction, not in
    the outbox of the store the dashboard request is acting for."""
    token = activate(None)
    try:
        emit(CHECK_TOPIC, domain_id=domain_id)
    finally:
        deactivate(token)


def invalidate_hosts() -> None:
    """After-commit hook: hosts may answer differently now, in every process."""
    state().resolver.invalidate()


@dataclass(frozen=True)
class Record:
    """A DNS record as a merchant types it at their DNS provider."""
    type: str
    name: str
    value: str


def challenge_name(hostname: str) -> str:
    return f"{CHALLENGE_PREFIX}.{hostname}"


def proof_value(domain: Domain) -> str:
    return f"{PROOF_PREFIX}{domain.verification_token}"


def store_target(domain: Domain) -> str:
    """What the host may be a CNAME of: the store's own Vitrine address."""
    return state().store_host(domain.store.handle)


def instructions(domain: Domain) -> list[Record]:
    """The records that each prove control (either one will do)."""
    return [Record("TXT", challenge_name(domain.hostname), proof_value(domain)),
            Record("CNAME", domain.hostname, store_target(domain))]
