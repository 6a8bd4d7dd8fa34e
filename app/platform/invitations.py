"""Staff invitations: an owner or admin invites an email in a role; the
invitee accepts through a mailed, single-use link that expires
(INVITATION_TTL), logged in as that email or signing up from the link
(the link proves the email). The answer to the inviter never says whether
the email has an account. At most INVITATION_PENDING_LIMIT are pending per store.
"""
from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa
from flask import current_app

from app.effects import emit
from app.extensions import db
from app.notifications.service import send_email
from app.platform import accounts, throttle
from app.platform.models import Invitation
from app.store import service as store_service
from app.platform.tokens import digest, in_seconds, new_token, now, well_formed
from tenants.context import activate, deactivate
from tenants.directory import require_manager
from tenants.errors import DirectoryError, DirectoryErrorCode as Code, Forbidden, NotFound
from tenants.models import Account, Membership, Store
from tenants.staff import join

INVITATION_SENT = "staff.invitation_sent"
ROLES = ("admin", "staff")
EXPIRED = "This invitation has expired, was revoked or was already used. Ask for a new one."


def pending(store_id: int) -> list[Invitation]:
    return list(db.session.scalars(_open().where(Invitation.store_id == store_id).order_by(Invitation.created_at)))


def invite(member: Membership, email: str, role: str, *, actor: str, address: str, base_url: str) -> Invitation:
    """Invite `email` (again, if an invitation is open: it is sent anew); commits."""
    require_manager(member)
    if role not in ROLES:
        raise DirectoryError(Code.INVALID, "Role must be admin or staff.", "role")
    email = accounts.normalize_email(email)
    _lock_store(member.store_id)  # pending invitations are counted one inviter at a time
    if _is_member(member.store_id, email):
        raise DirectoryError(Code.TAKEN, f"{email} is already on this store's staff.", "email")
    invitation = db.session.scalar(_open().where(Invitation.store_id == member.store_id, Invitation.email == email))
    if invitation is None or invitation.expired:
        _check_room(member.store_id)
    throttle.mail(email, address)
    if invitation is None:
        invitation = Invitation(store_id=member.store_id, email=email)
        db.session.add(invitation)
    invitation.role, invitation.invited_by = role, member.account_id
    store_service.record(actor, "staff.invited", f"Invited {email} as {role}")
    _send(invitation, base_url)
    return invitation


def resend(member: Membership, invitation_id: int, *, address: str, base_url: str) -> Invitation:
    require_manager(member)
    _lock_store(member.store_id)
    invitation = _pending_of(member, invitation_id)
    if invitation.expired:
        _check_room(member.store_id)
    throttle.mail(invitation.email, address)
    _send(invitation, base_url)
    return invitation


def revoke(member: Membership, invitation_id: int, *, actor: str) -> Invitation:
    require_manager(member)
    invitation = _pending_of(member, invitation_id)
    invitation.revoked_at, invitation.token_hash = now(), None
    store_service.record(actor, "staff.invitation_revoked", f"Revoked the invitation to {invitation.email}")
    db.session.commit()
    return invitation


def send_invitation_mail(*, invitation_id: int, base_url: str) -> None:
    """Outbox handler: mint the link (a new one each time: an older mail's link stops working) and mail it."""
    invitation = db.session.scalar(_open().where(Invitation.id == invitation_id).with_for_update())
    if invitation is None:
        return  # revoked or accepted since
    raw, invitation.token_hash = new_token()
    invitation.sent_at = now()
    db.session.flush()
    store, inviter = invitation.store, invitation.inviter
    how = ("Log in to Vitrine as this address, then open the link." if accounts.exists(invitation.email)
           else "You will create your Vitrine account from the link.")
    send_email([invitation.email], f"You are invited to work on {store.name} on Vitrine", (
        f"{inviter.name if inviter else 'The store owner'} invited you to work on {store.name} as "
        f"{invitation.role}.\n\nAccept the invitation:\n{base_url}/invitations/{raw}\n\n{how}\n"
        f"The link works once, until {invitation.expires_at:%d %b %Y %H:%M %Z}.\n\n"
        "If you were not expecting this, ignore this mail.\n"))


def find(raw: str, *, lock: bool = False) -> Invitation:
    """The pending invitation a link stands for; NotFound otherwise."""
    invitation = None
    if well_formed(raw):
        query = _open().where(Invitation.token_hash == digest(raw), Invitation.expires_at > now())
        invitation = db.session.scalar(query.with_for_update() if lock else query)
    if invitation is None:
        raise NotFound(EXPIRED)
    return invitation


def accept(raw: str, account: Account) -> Invitation:
    """The logged-in invitee joins the store (commits)."""
    invitation = find(raw, lock=True)
    if invitation.email != account.email:
        raise Forbidden(f"This invitation is for {invitation.email}. Log out, then log in as "
                        f"{invitation.email} (or sign up from the link) to accept it.")
    _join(invitation, account.id)
    db.session.commit()
    return invitation


def accept_as_new(raw: str, *, name: str, password: str) -> tuple[Account, Invitation]:
    """Create the invitee's account from the link, and join (commits)."""
    invitation = find(raw, lock=True)
    account = accounts.add_account(email=invitation.email, name=name, password=password)
    _join(invitation, account.id)
    db.session.commit()
    return account, invitation


def _join(invitation: Invitation, account_id: int) -> None:
    join(invitation.store_id, account_id, invitation.role)
    invitation.accepted_at, invitation.token_hash = now(), None


def _send(invitation: Invitation, base_url: str) -> None:
    """Give the invitation a fresh expiry, record its mail, commit."""
    invitation.expires_at = in_seconds(current_app.config["INVITATION_TTL"])
    db.session.flush()
    with _directory_outbox():
        emit(INVITATION_SENT, invitation_id=invitation.id, base_url=base_url)
    db.session.commit()


@contextmanager
def _directory_outbox():
    """Record the mail in the platform outbox, beside the invitation row
    (same database, same transaction), even from a store's dashboard."""
    token = activate(None)
    try:
        yield
    finally:
        deactivate(token)


def _open():
    return sa.select(Invitation).where(Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None))


def _pending_of(member: Membership, invitation_id: int) -> Invitation:
    invitation = db.session.scalar(_open().where(Invitation.id == invitation_id,
                                                 Invitation.store_id == member.store_id))
    if invitation is None:
        raise NotFound("No such invitation.")
    return invitation


def _lock_store(store_id: int) -> None:
    db.session.execute(sa.select(Store.id).where(Store.id == store_id).with_for_update())


def _is_member(store_id: int, email: str) -> bool:
    return db.session.scalar(sa.select(Membership.account_id).join(Account).where(
        Membership.store_id == store_id, Account.email == email)) is not None


def _check_room(store_id: int) -> None:
    limit = current_app.config["INVITATION_PENDING_LIMIT"]
    waiting = db.session.scalar(sa.select(sa.func.count()).select_from(
        _open().where(Invitation.store_id == store_id, Invitation.expires_at > now()).subquery()))
    if waiting >= limit:
        raise DirectoryError(Code.CONFLICT, f"This store already has {limit} pending invitations. Revoke one "
                             "or wait for one to be accepted.", "email")

