"""A store's staff: who may work on it, in which role."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from tenants.directory import require_manager
from tenants.errors import DirectoryError, DirectoryErrorCode as Code, Forbidden, NotFound
from tenants.models import Account, Membership


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
