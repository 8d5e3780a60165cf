"""Users and roles from the console: change a role, disable or enable an account (invitations: see
services/accounts/invitations.py).

Only owners and admins manage people, only inside their subtree. Nobody changes their own role or disables
themselves, and an organization never loses its last owner, so no one can lock a tenant out by accident.
"""

from __future__ import annotations

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from services import audit
from services.accounts.sessions import revoke_all_sessions
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.i18n.message import say
from services.models import Membership, Organization, Role, User
from services.tenancy.orgs import owner_count
from services.tenancy.scope import Actor, Forbidden, authorise, visible

PAGE_SIZE = 50


def list_users(
    session: Session, actor: Actor | None, *, search: str = "", page: int = 1
) -> tuple[list[dict[str, str]], int]:
    """Memberships in the actor's subtree: who belongs where, with which role."""
    checked = authorise(session, actor, "view", action="users.list", target=("user", "*"))
    conditions = [visible(checked, col(Membership.organization_id))]
    if search.strip():
        like = f"%{search.strip().lower()}%"
        conditions.append(or_(col(User.email).like(like), col(User.username).like(like)))
    query = (
        select(Membership, User, Organization)
        .join(User, col(User.id) == col(Membership.user_id))
        .join(Organization, col(Organization.id) == col(Membership.organization_id))
        .where(*conditions)
    )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(Organization.name), col(User.email)).offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return [
        {
            "membership_id": str(m.id),
            "user_id": str(u.id),
            "email": u.email,
            "organization": o.name,
            "kind": o.kind,
            "role": m.role,
            "status": u.status,
        }
        for m, u, o in rows
    ], int(total)


def change_role(session: Session, actor: Actor | None, membership_id: int, role: str, *, ip: str = "") -> None:
    membership = session.get(Membership, membership_id)
    checked = authorise(
        session,
        actor,
        "manage",
        action="users.change_role",
        target=("membership", membership_id),
        organization_id=membership.organization_id if membership else -1,
    )
    assert membership is not None
    if role not in Role.ALL:
        raise ValidationFailed.single("role", say("must be one of {choices}", choices=", ".join(Role.ALL)))
    if membership.user_id == checked.user_id:
        raise ValidationFailed.single("role", N_("You cannot change your own role."))
    if Role.OWNER in (membership.role, role) and checked.role != Role.OWNER:
        raise ValidationFailed.single("role", N_("Only an owner can make someone an owner or change an owner's role."))
    if membership.role == Role.OWNER and role != Role.OWNER and owner_count(session, membership.organization_id) <= 1:
        raise ValidationFailed.single("role", N_("An organization keeps at least one owner."))
    before, membership.role = membership.role, role
    session.add(membership)
    audit.record(
        session,
        "users.change_role",
        actor_label=checked.email,
        target=("membership", membership_id),
        organization_id=membership.organization_id,
        ip=ip,
        details={"from": before, "to": role},
    )


def set_disabled(session: Session, actor: Actor | None, user_id: int, disabled: bool, *, ip: str = "") -> None:
    """Disabling signs the person out everywhere at once. Every organization they belong to must be the actor's."""
    orgs = session.exec(select(col(Membership.organization_id)).where(col(Membership.user_id) == user_id)).all()
    checked = authorise(
        session,
        actor,
        "manage",
        action="users.disable",
        target=("user", user_id),
        organization_id=orgs[0] if orgs else -1,
    )
    for org_id in orgs[1:]:
        authorise(session, checked, "manage", action="users.disable", target=("user", user_id), organization_id=org_id)
    if user_id == checked.user_id:
        raise Forbidden("You cannot disable your own account.")
    user = session.get(User, user_id)
    assert user is not None
    user.status = "disabled" if disabled else "active"
    session.add(user)
    if disabled:
        revoke_all_sessions(session, user_id)
    audit.record(
        session,
        "users.disable" if disabled else "users.enable",
        actor_label=checked.email,
        target=("user", user_id),
        organization_id=orgs[0] if orgs else None,
        ip=ip,
        details={"email": user.email},
    )
