"""Support staff seeing the portal as one of their customers' users: a separate, short, audited session.

The admin's own session is left as it is; the impersonation session belongs to the customer's user but carries
the admin's id, so every page can say who is really looking, and ending it (or its expiry) returns the admin
to their own session. Only users of customer organizations inside the admin's subtree can be impersonated:
never another admin, never someone else's customer.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from services import audit
from services.accounts.sessions import revoke_session
from services.admin.scope import Actor, Forbidden, authorise
from services.crypto import hash_token, new_token
from services.models import AuthSession, Membership, Organization, OrgKind, User
from services.models.base import utcnow

LIFETIME = timedelta(hours=1)


def start(session: Session, actor: Actor | None, user_id: int, *, ip: str = "") -> str:
    """A session token for the customer's user, marked as the admin's; the admin's own session is kept."""
    membership = session.exec(select(Membership, Organization)
                              .join(Organization, Organization.id == Membership.organization_id)  # type: ignore[arg-type]
                              .where(Membership.user_id == user_id)).all()
    customer_orgs = [org for _m, org in membership if org.kind == OrgKind.CUSTOMER]
    staff_elsewhere = any(org.kind != OrgKind.CUSTOMER for _m, org in membership)
    checked = authorise(session, actor, "instances", action="impersonation.start", target=("user", user_id),
                        organization_id=customer_orgs[0].id if customer_orgs and not staff_elsewhere else -1)
    user = session.get(User, user_id)
    if user is None or user.status != "active":
        raise Forbidden("That user cannot be impersonated.")
    token = new_token()
    session.add(AuthSession(user_id=user_id, token_hash=hash_token(token), expires_at=utcnow() + LIFETIME,
                            ip=ip[:64] or None, user_agent="impersonation", impersonator_id=checked.user_id))
    audit.record(session, "admin.impersonation_started", actor_label=checked.email, target=("user", user_id),
                 organization_id=customer_orgs[0].id, ip=ip, details={"as": user.email})
    return token


def end(session: Session, token: str, *, ip: str = "") -> bool:
    """Revoke the impersonation session behind `token`; False if it was not one."""
    row = session.exec(select(AuthSession).where(AuthSession.token_hash == hash_token(token))).first()
    if row is None or row.impersonator_id is None:
        return False
    admin = session.get(User, row.impersonator_id)
    user = session.get(User, row.user_id)
    revoke_session(session, token)
    org_id = session.exec(select(Membership.organization_id).where(Membership.user_id == row.user_id)).first()
    audit.record(session, "admin.impersonation_ended", actor_label=admin.email if admin else "",
                 target=("user", row.user_id), organization_id=org_id, ip=ip,
                 details={"as": user.email if user else ""})
    return True
