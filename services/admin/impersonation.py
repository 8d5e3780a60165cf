"""Support staff seeing the portal as one of their customers' users: a separate, short, audited session.

The admin's own session is left as it is; the impersonation session belongs to the customer's user but carries
the admin's id, so every page can say who is really looking, and ending it (or its expiry) returns the admin
to their own session. Only users of customer organizations inside the admin's subtree can be impersonated:
never another admin, never someone else's customer.
"""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from services import audit
from services.accounts.sessions import revoke_session
from services.crypto import hash_token, new_token
from services.models import AuthSession, Membership, User
from services.models.base import utcnow
from services.tenancy.scope import Actor, Forbidden, authorise, impersonation_target

LIFETIME = timedelta(hours=1)


def start(session: Session, actor: Actor | None, user_id: int, *, admin_session_hash: str, ip: str = "") -> str:
    """A session token for the customer's user, marked as the admin's and tied to the admin's own session.

    The admin's own session is kept (ending the impersonation returns to it) and is the impersonation's
    parent: when the admin signs out, is disabled, demoted or loses the membership, the impersonation ends.
    """
    target_org = impersonation_target(session, actor, user_id)
    checked = authorise(
        session,
        actor,
        "instances",
        action="impersonation.start",
        target=("user", user_id),
        organization_id=target_org if target_org is not None else -1,
    )
    user = session.get(User, user_id)
    parent = session.exec(
        select(AuthSession).where(
            col(AuthSession.token_hash) == admin_session_hash,
            col(AuthSession.user_id) == checked.user_id,
            col(AuthSession.revoked_at).is_(None),
        )
    ).first()
    if user is None or user.status != "active":
        raise Forbidden("That user cannot be impersonated.")
    if parent is None or parent.impersonator_id is not None:
        raise Forbidden("Sign in again before you impersonate someone.")
    token = new_token()
    session.add(
        AuthSession(
            user_id=user_id,
            token_hash=hash_token(token),
            expires_at=min(utcnow() + LIFETIME, parent.expires_at),
            ip=ip[:64] or None,
            user_agent="impersonation",
            impersonator_id=checked.user_id,
            parent_id=parent.id,
        )
    )
    audit.record(
        session,
        "admin.impersonation_started",
        **checked.audit_fields(),
        target=("user", user_id),
        on_behalf_of_user_id=user_id,
        organization_id=target_org,
        ip=ip,
        details={"as": user.email},
    )
    return token


def end(session: Session, token: str, *, ip: str = "") -> bool:
    """Revoke the impersonation session behind `token`; False if it was not one."""
    row = session.exec(select(AuthSession).where(col(AuthSession.token_hash) == hash_token(token))).first()
    if row is None or row.impersonator_id is None:
        return False
    admin = session.get(User, row.impersonator_id)
    user = session.get(User, row.user_id)
    revoke_session(session, token)
    org_id = session.exec(select(col(Membership.organization_id)).where(col(Membership.user_id) == row.user_id)).first()
    audit.record(
        session,
        "admin.impersonation_ended",
        actor_user_id=row.impersonator_id,
        actor_label=admin.email if admin else "",
        on_behalf_of_user_id=row.user_id,
        target=("user", row.user_id),
        organization_id=org_id,
        ip=ip,
        details={"as": user.email if user else ""},
    )
    return True
