"""A customer's team: colleagues invited into the customer's organization with a role, and what each role may do.

owner: everything, including other owners and deleting a free instance; admin: the instance, billing and the
team (not owners); billing: plans, invoices and cancellation; member: the instance's status and usage. Every
member sees the team. An organization keeps at least one owner: the last one cannot leave, be removed or step
down. Invitations are the platform's own (services/accounts/invitations.py): nobody joins until they accept as
themselves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from services import audit
from services.accounts.invitations import offer, withdraw
from services.errors import ValidationFailed
from services.i18n.catalog import N_
from services.i18n.message import say
from services.models import Invitation, Membership, Role, User
from services.models.base import utcnow
from services.tenancy.orgs import owner_count
from services.tenancy.scope import Customer, authorise_customer

CUSTOMER_ROLES = (Role.OWNER, Role.ADMIN, Role.BILLING, Role.MEMBER)
ROLE_HELP = {
    Role.OWNER: "Everything, including the team's owners and deleting the instance.",
    Role.ADMIN: "The instance, billing and the team.",
    Role.BILLING: "Plans, invoices and cancellation.",
    Role.MEMBER: "The instance's status and usage.",
}
LAST_OWNER = N_("Your team keeps at least one owner: make someone else an owner first.")


@dataclass
class TeamView:
    members: list[dict[str, str]] = field(default_factory=list)
    invitations: list[dict[str, str]] = field(default_factory=list)
    can_manage: bool = False
    my_role: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _checked(
    session: Session, who: Customer | None, capability: str, attempted: str, target: tuple[str, object]
) -> int:
    organization_id = who.organization_id if who is not None else None
    authorise_customer(session, who, capability, action=attempted, target=target, organization_id=organization_id)
    assert organization_id is not None
    return organization_id


def team(session: Session, who: Customer | None) -> TeamView:
    organization_id = _checked(session, who, "status", "team.view", ("organization", "-"))
    assert who is not None
    rows = session.exec(
        select(Membership, User)
        .join(User, col(User.id) == col(Membership.user_id))
        .where(col(Membership.organization_id) == organization_id)
        .order_by(col(Membership.id))
    ).all()
    view = TeamView(my_role=who.role, can_manage=who.role in (Role.OWNER, Role.ADMIN))
    view.members = [
        {
            "id": str(m.id),
            "email": u.email,
            "role": m.role,
            "you": "yes" if u.id == who.user_id else "",
            "since": f"{m.created_at:%d %b %Y}",
        }
        for m, u in rows
    ]
    if view.can_manage:
        pending = session.exec(
            select(Invitation)
            .where(
                col(Invitation.organization_id) == organization_id,
                col(Invitation.status) == "pending",
                col(Invitation.expires_at) > utcnow(),
            )
            .order_by(col(Invitation.id))
        ).all()
        view.invitations = [
            {"id": str(i.id), "email": i.email, "role": i.role, "expires": f"{i.expires_at:%d %b %Y}"} for i in pending
        ]
    return view


def _role(role: str) -> str:
    if role not in CUSTOMER_ROLES:
        raise ValidationFailed.single("role", say("Choose one of: {choices}.", choices=", ".join(CUSTOMER_ROLES)))
    return role


def invite_colleague(session: Session, who: Customer | None, email: str, role: str, ip: str = "") -> int:
    organization_id = _checked(session, who, "manage", "team.invite", ("organization", "-"))
    assert who is not None
    if _role(role) == Role.OWNER and who.role != Role.OWNER:
        raise ValidationFailed.single("role", N_("Only an owner can invite another owner."))
    invitation = offer(
        session,
        inviter_user_id=who.user_id,
        inviter_email=who.email,
        audit_identity=who.audit_fields(),
        email=email,
        role=role,
        organization_id=organization_id,
        ip=ip,
    )
    return int(invitation.id or 0)


def _membership(session: Session, who: Customer | None, membership_id: int, attempted: str) -> Membership:
    membership = session.get(Membership, membership_id)
    authorise_customer(
        session,
        who,
        "manage",
        action=attempted,
        target=("membership", membership_id),
        organization_id=membership.organization_id if membership is not None else None,
    )
    assert membership is not None and who is not None
    if membership.user_id == who.user_id:
        raise ValidationFailed.single("", N_("That is you: use Leave the team, or ask another owner."))
    return membership


def change_role(session: Session, who: Customer | None, membership_id: int, role: str, ip: str = "") -> None:
    membership = _membership(session, who, membership_id, "team.change_role")
    assert who is not None
    if Role.OWNER in (membership.role, _role(role)) and who.role != Role.OWNER:
        raise ValidationFailed.single("role", N_("Only an owner can make someone an owner or change an owner's role."))
    if membership.role == Role.OWNER and role != Role.OWNER and owner_count(session, membership.organization_id) <= 1:
        raise ValidationFailed.single("role", LAST_OWNER)
    before, membership.role = membership.role, role
    session.add(membership)
    _audit(session, who, "team.change_role", membership, ip, {"from": before, "to": role})


def remove(session: Session, who: Customer | None, membership_id: int, ip: str = "") -> None:
    membership = _membership(session, who, membership_id, "team.remove")
    assert who is not None
    if membership.role == Role.OWNER and who.role != Role.OWNER:
        raise ValidationFailed.single("", N_("Only an owner can remove an owner."))
    if membership.role == Role.OWNER and owner_count(session, membership.organization_id) <= 1:
        raise ValidationFailed.single("", LAST_OWNER)
    session.delete(membership)
    _audit(session, who, "team.remove", membership, ip, {"role": membership.role})


def leave(session: Session, who: Customer | None, ip: str = "") -> None:
    organization_id = _checked(session, who, "status", "team.leave", ("organization", "-"))
    assert who is not None
    membership = session.exec(
        select(Membership).where(
            col(Membership.organization_id) == organization_id, col(Membership.user_id) == who.user_id
        )
    ).one()
    if who.impersonator is not None:
        raise ValidationFailed.single("", N_("Leaving is the customer's own decision, not made while impersonating."))
    if membership.role == Role.OWNER and owner_count(session, organization_id) <= 1:
        raise ValidationFailed.single("", LAST_OWNER)
    session.delete(membership)
    _audit(session, who, "team.leave", membership, ip, {"role": membership.role})


def withdraw_invitation(session: Session, who: Customer | None, invitation_id: int, ip: str = "") -> None:
    invitation = session.get(Invitation, invitation_id)
    authorise_customer(
        session,
        who,
        "manage",
        action="team.invitation_revoked",
        target=("invitation", invitation_id),
        organization_id=invitation.organization_id if invitation is not None else None,
    )
    assert invitation is not None and who is not None
    withdraw(session, invitation, "team.invitation_revoked", who.audit_fields(), ip)


def _audit(
    session: Session, who: Customer, action: str, membership: Membership, ip: str, details: dict[str, Any]
) -> None:
    audit.record(
        session,
        action,
        **who.audit_fields(),
        target=("membership", membership.id),
        organization_id=membership.organization_id,
        ip=ip,
        details={"user_id": membership.user_id, **details},
    )
