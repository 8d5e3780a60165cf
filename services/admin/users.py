"""Users and roles from the console: invite by e-mail, change a role, disable or enable an account.

Only owners and admins manage people, only inside their subtree. Nobody changes their own role or disables
themselves, and an organization never loses its last owner, so no one can lock a tenant out by accident.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, or_
from sqlmodel import Session, select

from services import audit
from services.accounts import passwords
from services.accounts.service import RESET_PASSWORD, issue_token, normalise_email
from services.accounts.sessions import revoke_all_sessions
from services.tenancy.scope import Actor, Forbidden, authorise, visible
from services.branding.brand import brand_for
from services.config import get_settings
from services.errors import ValidationFailed
from services.mail import render, send_after_commit
from services.models import Membership, Organization, Role, User
from services.models.base import utcnow

INVITATION_DAYS = 7
PAGE_SIZE = 50


def list_users(session: Session, actor: Actor | None, *, search: str = "", page: int = 1) -> tuple[list[dict], int]:
    """Memberships in the actor's subtree: who belongs where, with which role."""
    checked = authorise(session, actor, "view", action="users.list", target=("user", "*"))
    conditions = [visible(checked, Membership.organization_id)]
    if search.strip():
        like = f"%{search.strip().lower()}%"
        conditions.append(or_(User.email.like(like), User.username.like(like)))  # type: ignore[attr-defined]
    query = (select(Membership, User, Organization).join(User, User.id == Membership.user_id)  # type: ignore[arg-type]
             .join(Organization, Organization.id == Membership.organization_id).where(*conditions))  # type: ignore[arg-type]
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Organization.name, User.email)  # type: ignore[arg-type]
                        .offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return [{"membership_id": str(m.id), "user_id": str(u.id), "email": u.email, "organization": o.name,
             "kind": o.kind, "role": m.role, "status": u.status} for m, u, o in rows], int(total)


def invite(session: Session, actor: Actor | None, *, email: str, role: str, organization_id: int,
           ip: str = "") -> int:
    """A new member of the organization; a new person gets a link to choose their password. Returns the user id."""
    checked = authorise(session, actor, "manage", action="users.invite", target=("organization", organization_id),
                        organization_id=organization_id)
    if role not in Role.ALL:
        raise ValidationFailed.single("role", f"must be one of {', '.join(Role.ALL)}")
    email = normalise_email(email)
    org = session.get(Organization, organization_id)
    assert org is not None
    user = session.exec(select(User).where(User.email == email)).first()
    if user is not None and session.exec(select(Membership).where(
            Membership.user_id == user.id, Membership.organization_id == organization_id)).first():
        raise ValidationFailed.single("email", f"{email} is already a member of {org.name}.")
    if user is None:
        username = _free_username(session, email)
        user = User(email=email, username=username, email_verified_at=utcnow(),  # the invitation proves the address
                    password_hash=passwords.hash_password(secrets.token_urlsafe(32)))  # unusable until they choose
        session.add(user)
        session.flush()
    session.add(Membership(user_id=user.id, organization_id=organization_id, role=role))  # type: ignore[arg-type]
    brand = brand_for(session, organization_id)
    token = issue_token(session, user, RESET_PASSWORD, timedelta(days=INVITATION_DAYS))
    link = f"{brand.public_url or get_settings().public_url}/reset/confirm?token={token}"
    send_after_commit(session, render("invitation", email, {
        "inviter": checked.email, "organization": org.name, "role": role, "link": link, "days": INVITATION_DAYS},
        brand))
    audit.record(session, "users.invite", actor_label=checked.email, target=("user", user.id),
                 organization_id=organization_id, ip=ip, details={"email": email, "role": role})
    return user.id  # type: ignore[return-value]


def _free_username(session: Session, email: str) -> str:
    base = "".join(c for c in email.split("@")[0].lower() if c.isalnum())[:20] or "user"
    candidate, n = base, 1
    while session.exec(select(User.id).where(User.username == candidate)).first() is not None:
        n += 1
        candidate = f"{base}{n}"
    return candidate


def change_role(session: Session, actor: Actor | None, membership_id: int, role: str, *, ip: str = "") -> None:
    membership = session.get(Membership, membership_id)
    checked = authorise(session, actor, "manage", action="users.change_role", target=("membership", membership_id),
                        organization_id=membership.organization_id if membership else -1)
    assert membership is not None
    if role not in Role.ALL:
        raise ValidationFailed.single("role", f"must be one of {', '.join(Role.ALL)}")
    if membership.user_id == checked.user_id:
        raise ValidationFailed.single("role", "You cannot change your own role.")
    if membership.role == Role.OWNER and role != Role.OWNER and _owners(session, membership.organization_id) <= 1:
        raise ValidationFailed.single("role", "An organization keeps at least one owner.")
    before, membership.role = membership.role, role
    session.add(membership)
    audit.record(session, "users.change_role", actor_label=checked.email, target=("membership", membership_id),
                 organization_id=membership.organization_id, ip=ip, details={"from": before, "to": role})


def _owners(session: Session, organization_id: int) -> int:
    return session.exec(select(func.count()).select_from(Membership).where(
        Membership.organization_id == organization_id, Membership.role == Role.OWNER)).one()


def set_disabled(session: Session, actor: Actor | None, user_id: int, disabled: bool, *, ip: str = "") -> None:
    """Disabling signs the person out everywhere at once. Every organization they belong to must be the actor's."""
    orgs = session.exec(select(Membership.organization_id).where(Membership.user_id == user_id)).all()
    checked = authorise(session, actor, "manage", action="users.disable", target=("user", user_id),
                        organization_id=orgs[0] if orgs else -1)
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
    audit.record(session, "users.disable" if disabled else "users.enable", actor_label=checked.email,
                 target=("user", user_id), organization_id=orgs[0] if orgs else None, ip=ip,
                 details={"email": user.email})
