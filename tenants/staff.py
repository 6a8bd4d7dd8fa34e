"""A store's staff: who may work on it, in which role. People join through
invitations (app/platform/invitations.py); owners and admins remove them."""
from __future__ import annotations

from app.extensions import db
from app.store import service as store_service
from tenants.directory import require_manager
from tenants.errors import DirectoryError, DirectoryErrorCode as Code, Forbidden, NotFound
from tenants.models import Membership


def join(store_id: int, account_id: int, role: str) -> Membership:
    """Put an account on a store's staff, as an accepted invitation says
    (the caller commits). Someone already on the staff keeps their role."""
    if role not in ("admin", "staff"):
        raise DirectoryError(Code.INVALID, "Role must be admin or staff.", "role")
    existing = db.session.get(Membership, (account_id, store_id))
    if existing is not None:
        return existing
    added = Membership(account_id=account_id, store_id=store_id, role=role)
    db.session.add(added)
    return added


def remove_member(member: Membership, account_id: int, *, actor: str) -> str:
    require_manager(member)
    target = db.session.get(Membership, (account_id, member.store_id))
    if target is None:
        raise NotFound("No such staff member.")
    if target.role == "owner":
        raise Forbidden("The store owner cannot be removed.")
    email = target.account.email
    db.session.delete(target)
    store_service.record(actor, "staff.removed", f"Removed {email}")
    db.session.commit()
    return email
