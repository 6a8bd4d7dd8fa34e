"""Checking custom domains' DNS: after a domain is added or "Check now" is
pressed (the `domain.check` outbox topic), and periodically.

How often (`recheck_domains`, run by the scheduler every minute, picks the
domains that are due):
- pending: every 5 minutes; still unproven 7 days after it was added, it
  is marked failed.
- verified: daily; after a failed check, hourly. Three conclusive failures
  in a row (the record is gone or wrong, the name no longer exists) take it
  offline (failed). A DNS server that does not answer proves nothing either
  way, so timeouts never take a domain offline.
- failed: daily; proof found again brings it back.

A check does the DNS lookups first, with no row locked, then records the
result only if no other check recorded one meanwhile (so a periodic run and
a "Check now" racing each other count one failure, not two).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from flask import current_app

from app.effects import after_commit, handler
from app.extensions import db
from app.jobs import job
from tenants import dns
from tenants.domains import (CHECK_TOPIC, challenge_name, invalidate_hosts, proof_value, store_target)
from tenants.models import Domain

log = logging.getLogger(__name__)

PENDING_EVERY = timedelta(minutes=5)
VERIFIED_EVERY = timedelta(days=1)
AFTER_FAILURE_EVERY = timedelta(hours=1)  # a verified domain whose last check failed
FAILED_EVERY = timedelta(days=1)
GIVE_UP_AFTER = timedelta(days=7)  # pending this long without proof: failed
OFFLINE_AFTER = 3  # conclusive failed checks in a row take a verified domain offline
RECHECK_BATCH = 50  # domains per periodic run (lookups are sequential, a few seconds at worst each)


@dataclass(frozen=True)
class Finding:
    proven: bool
    conclusive: bool  # False: DNS did not answer, which proves nothing either way
    message: str = ""


def look_up(domain: Domain, settings: dns.DnsSettings) -> Finding:
    """Ask DNS for either proof: the TXT challenge record, or a CNAME of the
    host to the store's own address."""
    host, expected, target = domain.hostname, proof_value(domain), store_target(domain)
    name = challenge_name(host)
    problems, unanswered = [], []
    try:
        values = dns.txt_values(name, settings)
        if expected in (value.strip() for value in values):
            return Finding(True, True)
        problems.append(f"the TXT record at {name} holds {', '.join(map(repr, values))}, not {expected}"
                        if values else f"there is no TXT record at {name}")
    except dns.NoSuchName:
        problems.append(f"there is no TXT record at {name}")
    except dns.DnsUnavailable:
        unanswered.append(name)
    try:
        alias = dns.cname_target(host, settings)
        if alias == target:
            return Finding(True, True)
        problems.append(f"{host} is a CNAME for {alias}, not for {target}" if alias
                        else f"{host} has no CNAME record")
    except dns.NoSuchName:
        problems.append(f"{host} does not exist in DNS")
    except dns.DnsUnavailable:
        unanswered.append(host)
    if unanswered:
        return Finding(False, False, f"DNS servers did not answer for {' and '.join(unanswered)} within "
                                     f"{settings.timeout:g} seconds; we will try again.")
    return Finding(False, True, _sentence("; ".join(problems)))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + "."


def check_domain(domain_id: int) -> Domain | None:
    """Look at one domain's DNS and record what was found, in the caller's
    transaction (the caller commits); None when the domain is gone or another
    check recorded a result meanwhile."""
    domain = db.session.get(Domain, domain_id)
    if domain is None:
        return None
    seen = domain.checked_at
    finding = look_up(domain, dns.DnsSettings.from_config(current_app.config))
    # The lookups took a while: lock the row as it is now (read committed).
    domain = db.session.get(Domain, domain_id, with_for_update=True, populate_existing=True)
    if domain is None or domain.checked_at != seen:
        return None
    _record(domain, finding, datetime.now(timezone.utc))
    return domain


def _record(domain: Domain, finding: Finding, now: datetime) -> None:
    before = domain.status
    domain.checked_at = now
    domain.last_error = finding.message
    if finding.proven:
        domain.status, domain.failed_checks = "verified", 0
        if before != "verified":
            domain.verified_at = now
    elif finding.conclusive:
        domain.failed_checks += 1
        if before == "verified" and domain.failed_checks >= OFFLINE_AFTER:
            domain.status = "failed"
            domain.last_error = (f"Offline after {domain.failed_checks} failed checks in a row: "
                                 f"{finding.message}")
    if domain.status == "pending" and now - domain.created_at >= GIVE_UP_AFTER:
        domain.status = "failed"
        domain.last_error = (f"Not proven within {GIVE_UP_AFTER.days} days; fix the DNS record and press "
                             f"“Check now”. {finding.message}")
    if domain.status != before:
        log.info("domain %s: %s -> %s", domain.hostname, before, domain.status)
        after_commit(invalidate_hosts)


@handler(CHECK_TOPIC, queue="default", batch=False)
def check_added_domain(payloads: list[dict]) -> None:
    """After a domain was added or "Check now" was pressed (platform outbox)."""
    for payload in payloads:
        check_domain(int(payload["domain_id"]))


def due_domains(limit: int = RECHECK_BATCH) -> list[int]:
    """Ids of the domains whose next check is due, longest waiting first."""
    now = sa.func.now()

    def unchecked_for(period: timedelta):
        return sa.or_(Domain.checked_at.is_(None), Domain.checked_at <= now - period)

    due = sa.or_(
        sa.and_(Domain.status == "pending", unchecked_for(PENDING_EVERY)),
        sa.and_(Domain.status == "verified", Domain.failed_checks == 0, unchecked_for(VERIFIED_EVERY)),
        sa.and_(Domain.status == "verified", Domain.failed_checks > 0, unchecked_for(AFTER_FAILURE_EVERY)),
        sa.and_(Domain.status == "failed", unchecked_for(FAILED_EVERY)),
    )
    waiting_since = sa.func.coalesce(Domain.checked_at, Domain.created_at)
    return list(db.session.scalars(sa.select(Domain.id).where(due).order_by(waiting_since, Domain.id).limit(limit)))


@job
def recheck_domains() -> int:
    """Periodic: check the domains that are due; returns how many were checked."""
    checked = 0
    for domain_id in due_domains():
        try:
            checked += check_domain(domain_id) is not None
            db.session.commit()
        except Exception:  # one domain's trouble must not hold up the others
            db.session.rollback()
            log.exception("checking domain %s failed", domain_id)
    return checked
